"""The type table: what :meth:`TypeTable.of` and :meth:`TypeTable.const` answer, node by
node, and the order in which the inference reports.

The table keeps a dict entry only for inner nodes (and names typed as errors); a literal's
or a name's type comes from the node itself, so these tests pin that the answers are those
of the inference, including a define read before it is defined.
"""

from __future__ import annotations

from alvh_dsl.lang import ast as A
from alvh_dsl.lang.check.analysis import Analysis, check_types
from alvh_dsl.lang.loader import apply_overrides, load_program
from alvh_dsl.lang.types import BOOL, ERROR, Ty

HEADER = 'rulebook "t" version "1.0"\nparam trigger = 22\nparam cut = 25%\n'


def analysed(body: str) -> Analysis:
    program = load_program("t.alvh", HEADER + body)
    apply_overrides(program, None)
    return Analysis(program)


def rules(an: Analysis) -> list[A.Rule]:
    return [s for s in an.program.statements if isinstance(s, A.Rule)]


def test_leaves_are_typed_as_the_inference_typed_them() -> None:
    an = analysed(
        "rule r\n  when VIX > trigger and DTE < 2d and VIX.term_slope < 25% then close condor\n"
    )
    (rule,) = rules(an)
    assert rule.when is not None
    assert an.type_of(rule.when) is BOOL
    first, second, third = rule.when.operands  # type: ignore[union-attr]
    vix, trigger = first.left, first.right
    assert an.type_of(vix) == Ty("num", "points", series=True)
    assert an.const(vix) is None
    assert an.type_of(trigger) == Ty("num", "bare", series=True, const=True)
    assert an.const(trigger) == 22
    assert an.type_of(second.right) == Ty("num", "days", series=True, const=True)
    assert an.const(second.right) == 2
    assert an.const(third.right) == 0.25  # a percentage's value is its ratio
    assert an.types.consts[id(third.right)] == 0.25  # what the W201 facts read directly


def test_a_define_read_before_its_definition_stays_an_error() -> None:
    an = analysed(
        "rule early\n  when calm then close condor\n"
        "define calm = VIX < 15\n"
        "rule late\n  when calm then close condor\n"
    )
    early, late = rules(an)
    assert an.type_of(early.when) is ERROR  # type: ignore[arg-type]
    assert an.type_of(late.when) is BOOL  # type: ignore[arg-type]


def test_action_arguments_keep_their_values() -> None:
    an = analysed(
        "rule r\n  when VIX > 30 then shift 50% hedge from month 1 to month 3\n"
        "rule s\n  when VIX > 30 then roll condor to near 45 days\n"
    )
    shift, roll = (r.actions[0] for r in rules(an))
    assert isinstance(shift, A.ShiftHedge) and isinstance(roll, A.RollCondor)
    assert shift.fraction is not None and shift.from_month is not None
    assert an.const(shift.fraction) == 0.5
    assert an.const(shift.from_month) == 1
    assert an.const(shift.to_month) == 3
    assert isinstance(roll.to, A.NearDays)
    assert an.const(roll.to.days) == 45
    assert an.type_of(roll.to.days) == Ty("num", "days", series=True, const=True)


def test_between_reports_operand_by_operand() -> None:
    # The value is true/false (E205) and the low bound adds days to points (E201): the
    # value is reported first, as the operands come.
    an = analysed(
        "define calm = VIX < 15\nrule r\n  when calm between VIX + 2d and 30 then close condor\n"
    )
    assert [d.code for d in check_types(an)] == ["E205", "E201"]


def test_literal_arguments_in_the_wrong_unit_are_reported() -> None:
    an = analysed(
        "rule s\n  when VIX > 30 then roll condor to near 5 points\n"
        "rule t\n  when VIX > 30 then shift (10 points) hedge to month 2\n"
        "rule u\n  when VIX > 30 then close hedge month cut\n"
    )
    assert [d.code for d in check_types(an)] == ["E206", "E206", "E206"]
