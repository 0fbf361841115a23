"""sweep.html: one self-contained page (inline CSS and JavaScript, nothing fetched).

It shows what the sweep found (how many variants were tried, how the best did out of
sample), the table (click a header to sort), a heatmap of any figure over any two
params (the mean over the other params), the frontier of hedge cost per year against
crash-loss reduction, and for each variant the ``alvh dryrun`` command that reproduces it.
"""

from __future__ import annotations

import html
import json
import math
from typing import TYPE_CHECKING, Any

from .table import FIGURES, LOWER_IS_BETTER

if TYPE_CHECKING:  # pragma: no cover
    from .run import SweepResult

__all__ = ["sweep_html"]

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#f2f2f2;cursor:pointer;position:sticky;top:0}
td.p{text-align:left}td code{font-size:11px}
tr.best td{background:#fff6d6}tr.front td:first-child{border-left:4px solid #2a7}
.scroll{max-height:34em;overflow:auto;border:1px solid #ddd}
.note{color:#555;max-width:60em}select{margin-right:1em}
#heat td{min-width:5em;text-align:center}
"""

_JS = r"""
const D=JSON.parse(document.getElementById('data').textContent);
const fmt=v=>v===null||v===undefined?'':(typeof v==='number'?
  (Number.isInteger(v)?v.toLocaleString():v.toPrecision(5)):String(v));
function table(){
  const t=document.getElementById('rows');let sortKey=null,desc=false;
  function draw(){
    let rows=D.rows.slice();
    // A param sorts in grid order (5d before 10d; a range ascending), not as text.
    const at=D.axes.includes(sortKey)?v=>D.values[sortKey].indexOf(v):v=>v;
    if(sortKey!==null){rows.sort((a,b)=>{const x=at(a[sortKey]),y=at(b[sortKey]);
      if(x===y)return a.variant-b.variant;if(x===null)return 1;if(y===null)return -1;
      return (x<y?-1:1)*(desc?-1:1);});}
    let h='<tr>'+D.columns.map(c=>'<th data-c="'+c+'">'+c+
      (c===sortKey?(desc?' ▼':' ▲'):'')+'</th>').join('')+'</tr>';
    for(const r of rows){
      h+='<tr class="'+(r.rank===1?'best ':'')+(r.frontier?'front':'')+'">'+
        D.columns.map(c=>c.endsWith('command')?'<td class="p"><code>'+esc(r[c])+'</code></td>':
          '<td'+(D.axes.includes(c)?' class="p"':'')+'>'+esc(fmt(r[c]))+'</td>').join('')+'</tr>';}
    t.innerHTML=h;
    t.querySelectorAll('th').forEach(th=>th.onclick=()=>{const c=th.dataset.c;
      if(sortKey===c)desc=!desc;else{sortKey=c;desc=false;}draw();});
  }
  draw();
}
const ESC={'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'};
function esc(s){return String(s).replace(/[&<>"]/g,c=>ESC[c]);}
function heat(){
  const el=id=>document.getElementById(id);
  const x=el('hx'),y=el('hy'),f=el('hf');
  for(const s of [x,y])for(const a of D.axes)s.add(new Option(a,a));
  for(const c of D.figures)f.add(new Option(c,c));
  if(D.axes.length>1)y.selectedIndex=1;
  function draw(){
    const ax=x.value,ay=y.value,fig=f.value;
    const xs=D.values[ax],ys=D.values[ay];const cell={};
    for(const r of D.rows){const v=r[fig];if(v===null)continue;
      const k=r[ax]+'\u0000'+r[ay];(cell[k]=cell[k]||[]).push(v);}
    const mean={};let lo=Infinity,hi=-Infinity;
    for(const k in cell){const m=cell[k].reduce((a,b)=>a+b,0)/cell[k].length;mean[k]=m;
      lo=Math.min(lo,m);hi=Math.max(hi,m);}
    let h='<tr><th>'+esc(ay)+' \\ '+esc(ax)+'</th>'+
      xs.map(v=>'<th>'+esc(v)+'</th>').join('')+'</tr>';
    for(const vy of ys){h+='<tr><th>'+esc(vy)+'</th>';
      for(const vx of xs){const m=mean[vx+'\u0000'+vy];
        if(m===undefined){h+='<td></td>';continue;}
        // Green is the better end: the low end of a figure where smaller is better.
        let t=hi>lo?(m-lo)/(hi-lo):0.5;if(D.lower.includes(fig))t=1-t;
        h+='<td style="background:hsl('+(t*120)+',60%,75%)">'+fmt(m)+'</td>';}
      h+='</tr>';}
    document.getElementById('heat').innerHTML=h;
  }
  x.onchange=y.onchange=f.onchange=draw;draw();
}
table();heat();
"""


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # a NumPy scalar
        return _clean(value.item())
    return value


def _frontier_svg(rows: list[dict[str, Any]], prefix: str) -> str:
    """Hedge cost per year (x) against crash-loss reduction (y); frontier points joined."""
    cost_key, gain_key = prefix + "hedge_cost_per_year", prefix + "crash_loss_reduction"
    points = [
        (r[cost_key], r[gain_key], r) for r in rows
        if r.get(cost_key) is not None and r.get(gain_key) is not None
    ]  # fmt: skip
    if not points:
        return "<p class='note'>No variant has both a hedge cost and a crash-loss reduction " \
            "(no baseline, or no near-expiry day).</p>"  # fmt: skip
    w, h, pad = 640, 360, 50
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def sx(v: float) -> float:
        return float(pad + (v - x0) / (x1 - x0) * (w - 2 * pad))

    def sy(v: float) -> float:
        return float(h - pad - (v - y0) / (y1 - y0) * (h - 2 * pad))

    parts = [f"<svg width='{w}' height='{h}'>"]
    parts.append(f"<rect x='{pad}' y='{pad}' width='{w - 2 * pad}' height='{h - 2 * pad}' "
                 "fill='none' stroke='#999'/>")  # fmt: skip
    front = sorted((p for p in points if p[2].get("frontier")), key=lambda p: p[0])
    if len(front) > 1:
        path = " ".join(f"{sx(c):.1f},{sy(g):.1f}" for c, g, _ in front)
        parts.append(f"<polyline points='{path}' fill='none' stroke='#2a7' stroke-width='2'/>")
    for c, g, r in points:
        color = "#2a7" if r.get("frontier") else "#68a"
        tip = html.escape(f"variant {r['variant']}: cost {c:,.0f}/yr, reduction {g:.3f}")
        parts.append(
            f"<circle cx='{sx(c):.1f}' cy='{sy(g):.1f}' r='4' fill='{color}'><title>{tip}"
            "</title></circle>"
        )
    parts.append(f"<text x='{w / 2}' y='{h - 12}' text-anchor='middle'>hedge cost per year, $ "
                 f"({x0:,.0f} .. {x1:,.0f})</text>")  # fmt: skip
    parts.append(
        f"<text x='14' y='{h / 2}' transform='rotate(-90 14 {h / 2})' "
        f"text-anchor='middle'>crash-loss reduction ({y0:.3f} .. {y1:.3f})</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def sweep_html(result: SweepResult) -> str:
    """The page, as text."""
    frame = result.frame
    rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
    columns = ["rank", "frontier", *[c for c in frame.columns if c not in ("rank", "frontier")]]
    ranked_on = result.meta.get("ranked_on", "all")
    prefix = "" if ranked_on == "all" else f"{ranked_on}_"
    prefixes = ["", *(f"{p}_" for p in result.parts)]
    figures = [c for c in frame.columns if any(c == p + f for p in prefixes for f in FIGURES)]
    data = {
        "rows": rows,
        "columns": columns,
        "axes": result.axes,
        "values": {a: list(result.meta["axes"][a]) for a in result.axes},
        "figures": figures,
        "lower": [c for c in figures if any(c == p + f for p in prefixes for f in LOWER_IS_BETTER)],
    }
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    meta = result.meta
    windows = ", ".join(f"{p}: {a} .. {b}" for p, (a, b) in meta["windows"].items())
    glossary = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in FIGURES.items()
    )
    title = f"Sweep of {meta['book_name']}"
    where = {"all": "whole window", "in": "in sample"}.get(ranked_on, f"part {ranked_on}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p><b>{html.escape(result.report["text"])}</b></p>
<p class="note">Book {html.escape(meta["book"])}; history {html.escape(meta["history"])}
({html.escape(windows)}); baseline {html.escape(meta["baseline"])}; ranked by
{html.escape(result.report["rank_by"])} on the {html.escape(result.report["ranked_on"])} part.
Prices are model prices (docs/dryrun.md). A highlighted row is the best; a green edge marks the
frontier of hedge cost against crash-loss reduction.</p>
<h2>Variants</h2><div class="scroll"><table id="rows"></table></div>
<h2>Heatmap</h2>
<p>x <select id="hx"></select> y <select id="hy"></select> figure <select id="hf"></select>
<span class="note">each cell: the mean over the other params</span></p>
<table id="heat"></table>
<h2>Frontier: hedge cost against crash-loss reduction ({where})</h2>
{_frontier_svg(rows, prefix)}
<h2>Figures</h2><ul class="note">{glossary}</ul>
<script type="application/json" id="data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""
