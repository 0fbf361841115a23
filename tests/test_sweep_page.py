"""sweep.html's script, run: the table sorts on a click, a param in grid order, and the
heatmap fills (docs/sweep.md). Runs the page's own JavaScript under Node with a stand-in
for the few DOM calls it makes; skipped where Node is not installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import alvh_dsl

ROOT = Path(__file__).resolve().parents[1]
CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")

NODE = shutil.which("node")

# getElementById hands out one stand-in per id; a table's header cells are read back
# from its innerHTML (data-c="..."), so a click is calling a cell's onclick.
_DOM = r"""
const fs = require('fs');
const page = fs.readFileSync(process.argv[2], 'utf8');
const data = page.split('id="data">')[1].split('</script>')[0];
const js = page.split('<script>')[1].split('</script>')[0];
const els = {};
function el(id) {
  if (els[id]) return els[id];
  const e = els[id] = {id, innerHTML: '', options: [], selectedIndex: 0,
    textContent: id === 'data' ? data : '', cells: [],
    add(o) { this.options.push(o); },
    get value() { return this.options[this.selectedIndex].value; },
    querySelectorAll() {
      this.cells = [...this.innerHTML.matchAll(/data-c="([^"]*)"/g)]
        .map(m => ({dataset: {c: m[1]}}));
      return this.cells;
    }};
  return e;
}
global.document = {getElementById: el};
global.Option = function (text, value) { this.text = text; this.value = value; };
(0, eval)(js);
const order = () => [...els.rows.innerHTML.matchAll(/<tr class="[^"]*">(.*?)<\/tr>/g)]
  .map(m => m[1].split('</td>')[2].replace(/<[^>]*>/g, ''));
const out = {initial: order()};
const click = c => els.rows.cells.find(t => t.dataset.c === c).onclick();
click('roll_dte'); out.roll_dte = order();
click('roll_dte'); out.roll_dte_desc = order();
click('pnl'); out.pnl = order();
out.heat = els.heat.innerHTML;
const pick = name => {
  const f = els.hf; f.selectedIndex = f.options.findIndex(o => o.value === name);
  f.onchange(); return els.heat.innerHTML; };
out.heat_pnl = pick('pnl'); out.heat_max_drawdown = pick('max_drawdown');
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page")
    alvh_dsl.sweep(CORE, {"roll_dte": ["5d", "10d"], "hedge_budget": ["1%", "5%"]}, out=out,
                   workers=0, start="2010-01-04", end="2010-02-26")  # fmt: skip
    return out / "sweep.html"


@pytest.mark.skipif(NODE is None, reason="Node is not installed")
def test_the_table_sorts_and_the_heatmap_fills(page: Path, tmp_path: Path) -> None:
    script = tmp_path / "dom.js"
    script.write_text(_DOM)
    assert NODE is not None
    done = subprocess.run([NODE, str(script), str(page)], capture_output=True, text=True,
                          check=True)  # fmt: skip
    got = json.loads(done.stdout)
    assert got["initial"] == ["0", "1", "2", "3"]  # the third cell is the variant
    # 5d before 10d: grid order, not text order ("10d" < "5d"); ties by variant.
    assert got["roll_dte"] == ["0", "1", "2", "3"]
    assert got["roll_dte_desc"] == ["2", "3", "0", "1"]
    assert sorted(got["pnl"]) == ["0", "1", "2", "3"]
    # Two params: a 2 x 2 heatmap, the header row and one row per value of y.
    assert got["heat"].count("<tr>") == 3 and got["heat"].count("<td style=") == 4
    # Green (hue 120) is the better end: the largest P&L, the smallest drawdown.
    frame = pd.read_csv(page.parent / "sweep.csv")
    for figure, best in (
        ("pnl", frame["pnl"].max()),
        ("max_drawdown", frame["max_drawdown"].min()),
    ):
        cells = re.findall(r"hsl\(([\d.]+),60%,75%\)\">([^<]*)<", got[f"heat_{figure}"])
        greenest = max(cells, key=lambda c: float(c[0]))
        assert float(greenest[0]) == 120 and float(greenest[1]) == pytest.approx(best, abs=0.1)
