"""The interactive map of ``report.html``: inline SVG drawn by a small inline script, no tiles, no network.

The data are the run's GIS layers (`xuewei.reports.gis.results_layers`, the same numbers as
``results.gpkg`` and the CSVs), projected to the region's UTM zone (metres, so the map's aspect and
scale bar are true) and embedded as JSON in a ``<script type="application/json">`` element:

- ``size`` [m] of the frame; every ``x``, ``y`` [m] from its upper left corner, y pointing down;
- ``boundary``: the county outline as an SVG path (simplified to `SIMPLIFY_M`);
- ``schools``, ``villages``, ``seats``: one entry per place (id, name, township, x, y);
- ``periods_data[period]``: the schools present in the period (action, stages, classes, places,
  pupils, boarding, merged into), the villages' figures by stage, and the catchment lines
  (village → school, stage, boarding, pupils, km).

The script draws one period at a time (buttons switch it), colours schools by action as the printed
maps do, sizes villages by school-age children, draws catchment lines by stage (dashed when
boarding; check boxes hide stages), zooms with the wheel or the +/− buttons and pans by dragging. A
click on a school or village lists its figures beside the map. The page address may carry the state,
``#period=2030&select=school:S1`` (a link to a period and a place), which the tests use too.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from xuewei.data.crs import project
from xuewei.labels import STAGE_ZH
from xuewei.optimizer.travel import basis_zh
from xuewei.reports import gis
from xuewei.reports.map_data import display_kind
from xuewei.reports.map_style import ACTION_COLOUR, STAGE_COLOUR, UNSERVED_COLOUR, VILLAGE_COLOUR

SIMPLIFY_M = 30.0  # boundary simplification tolerance [m]
MARGIN = 0.03  # frame margin, share of the larger side
SHAPE = {"kindergarten": "circle", "primary": "square", "teaching_point": "tridown", "junior": "tri",
         "nine_year": "diamond", "complete_secondary": "diamond", "senior": "star"}
SHAPE_ZH = {"circle": "幼儿园", "square": "小学", "tridown": "教学点", "tri": "初中", "diamond": "九年一贯制、完全中学",
            "star": "高中"}


def _r(values, digits: int = 1) -> list:
    """Rounded floats as a JSON list (NaN → null)."""
    a = np.round(np.asarray(values, dtype=float), digits)
    return [None if not np.isfinite(v) else (int(v) if digits == 0 else float(v)) for v in a]


def _str(values) -> list[str]:
    return ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in values]


def map_payload(run, layers: dict | None = None) -> dict:
    """The map's data (see the module docstring); ``layers`` from `gis.results_layers` if already built."""
    from xuewei.reports.map_data import site_lonlat

    layers = layers or gis.results_layers(run)
    crs = run.region.metric_crs
    boundary = run.region.boundary.to_crs(crs).geometry.union_all().simplify(SIMPLIFY_M)
    bx0, by0, bx1, by1 = boundary.bounds
    pad = MARGIN * max(bx1 - bx0, by1 - by0)
    x0, y1 = bx0 - pad, by1 + pad
    w, h = bx1 - bx0 + 2 * pad, by1 - by0 + 2 * pad

    def local(lon, lat) -> tuple[list, list]:
        x, y = project(np.asarray(lon, float), np.asarray(lat, float), crs)
        return _r(x - x0, 0), _r(y1 - y, 0)

    def ring(coords) -> str:
        xy = np.asarray(coords)[:, :2]
        pts = [f"{x - x0:.0f} {y1 - y:.0f}" for x, y in xy]
        return "M" + "L".join(pts) + "Z"

    polys = getattr(boundary, "geoms", [boundary])
    path = "".join(ring(r.coords) for p in polys for r in [p.exterior, *p.interiors])

    sites = site_lonlat(run).drop_duplicates("site_id").reset_index(drop=True)
    s_idx = pd.Series(np.arange(len(sites)), index=sites["site_id"])
    sx, sy = local(sites["lon"], sites["lat"])
    nodes = run.region.nodes.reset_index(drop=True)
    v_idx = pd.Series(np.arange(len(nodes)), index=nodes["node_id"])
    vx, vy = local(nodes["lon"], nodes["lat"])
    towns = run.township_names()
    seats = run.region.townships[run.region.townships["lon"].notna()]
    tx, ty = local(seats["lon"], seats["lat"])
    from xuewei.reports.gis import KIND_NAMES

    out = {
        "periods": [int(p) for p in run.periods], "size": [round(w), round(h)], "epsg": crs.to_epsg(),
        "synthetic": bool(run.synthetic), "boundary": path,
        "seats": {"name": _str(seats["name"]), "x": tx, "y": ty},
        "schools": {"id": _str(sites["site_id"]), "name": _str(sites["name"]),
                    "kind": _str(sites["kind"].map(KIND_NAMES).fillna(sites["kind"])),
                    "town": _str(sites["township_id"].map(towns)), "x": sx, "y": sy},
        "villages": {"id": _str(nodes["node_id"]), "name": _str(nodes["name"]),
                     "town": _str(nodes["township_id"].map(towns)), "x": vx, "y": vy},
        "stages": [STAGE_ZH[g] for g in gis.STAGES], "stage_codes": [gis.STAGE_CODE[g] for g in gis.STAGES],
        "colours": {"action": ACTION_COLOUR, "stage": [STAGE_COLOUR[g] for g in gis.STAGES],
                    "village": VILLAGE_COLOUR, "unserved": UNSERVED_COLOUR},
        "shapes": SHAPE_ZH, "periods_data": {}}

    sch, vil, cat = layers["schools"], layers["villages"], layers["catchments"]
    a = run.actions.reset_index(drop=True)
    draw = [SHAPE.get(display_kind(k, sa or sb), "square")
            for k, sa, sb in zip(a["kind"], a["stages_after"].fillna(""), a["stages_before"].fillna(""))]
    stage_pos = {STAGE_ZH[g]: i for i, g in enumerate(gis.STAGES)}
    for p in run.periods:
        m = (sch["period"] == p).to_numpy()
        s = sch[m]
        keep = s["school_id"].isin(s_idx.index).to_numpy()
        s = s[keep]
        schools = {"i": [int(i) for i in s_idx[s["school_id"]]], "code": _str(s["action_cd"]),
                   "action": _str(s["action"]), "draw": [d for d, k in zip(np.asarray(draw)[m], keep) if k],
                   "stages_bf": _str(s["stages_bf"]), "stages_af": _str(s["stages_af"]),
                   "class_bf": _r(s["class_bf"], 0), "class_af": _r(s["class_af"], 0),
                   "places_bf": _r(s["places_bf"], 0), "places_af": _r(s["places_af"], 0),
                   "pupils": _r(s["pupils"]), "board_pup": _r(s["board_pup"]), "beds": _r(s["board_beds"], 0),
                   "merged": _str(s["merged_nm"]), "cost": _r(s["cost_wan"])}
        v = vil[vil["period"] == p]
        villages = {"i": [int(i) for i in v_idx[v["node_id"]]], "pupils": _r(v["pupils"])}
        for c in villages_fields():
            villages[c] = (_str(v[c]) if c.endswith("_schname") else _r(v[c], 0) if c.endswith("_nsch")
                           else _r(v[c], 2 if c.endswith("_km") else 1))
        c_ = cat[(cat["period"] == p) & cat["school_id"].isin(s_idx.index)]
        lines = {"v": [int(i) for i in v_idx[c_["node_id"]]], "s": [int(i) for i in s_idx[c_["school_id"]]],
                 "g": [stage_pos[g] for g in c_["stage"]], "b": [int(b == "是") for b in c_["boarding"]],
                 "pupils": _r(c_["pupils"]), "km": _r(c_["dist_km"], 2)}
        out["periods_data"][str(p)] = {"schools": schools, "villages": villages, "lines": lines}
    return out


def villages_fields() -> list[str]:
    """The per-stage village fields the map carries (from the ``villages`` layer)."""
    return [f"{gis.STAGE_CODE[g]}_{k}" for g in gis.STAGES for k in ("dem", "schname", "nsch", "km", "board", "unsrv")]


def map_section(run, layers: dict | None = None) -> str:
    """The map's HTML: controls, SVG, info panel, legend, the data and the script."""
    payload = map_payload(run, layers)
    w, h = payload["size"]
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    periods = "".join(f'<button type="button" data-period="{p}">{p} 年</button>' for p in run.periods)
    stages = "".join(f'<label><input type="checkbox" data-stage="{i}" checked>'
                     f'<i style="background:{STAGE_COLOUR[g]}"></i>{html.escape(STAGE_ZH[g])}</label>'
                     for i, g in enumerate(gis.STAGES))
    from xuewei.labels import ACTION_ZH

    actions = "".join(f'<span><i style="background:{c}"></i>{ACTION_ZH[a]}</span>' for a, c in ACTION_COLOUR.items())
    syn = '<b class="syn">示意数据</b>' if run.synthetic else ""
    return f"""<div class="xw-map" id="xw-map-box">
<div class="xw-bar"><span class="xw-periods" role="group" aria-label="规划期">{periods}</span>
<span class="xw-stages">就学路线：{stages}</span>
<span class="xw-zoom"><button type="button" data-zoom="1.5" title="放大">＋</button><button type="button" data-zoom="0.6667"
 title="缩小">－</button><button type="button" data-zoom="0" title="全图">全图</button></span></div>
<div class="xw-body"><svg id="xw-map" style="aspect-ratio:{w}/{h}" role="img" aria-label="学校与村的交互地图" preserveAspectRatio="xMidYMid meet"></svg>
<div class="xw-info" id="xw-info"><p class="muted">点击地图上的学校或村（社区），这里列出它的数字。</p></div></div>
<div class="xw-legend"><b>学校调整</b>{actions}<b>形状</b>◯ 幼儿园 □ 小学 ▽ 教学点 △ 初中 ◇ 九年一贯制、完全中学 ☆ 高中
<b>村（社区）</b><span><i class="dot"></i>面积 ∝ 学龄儿童</span><span><i class="dot red"></i>有学生未能安排</span>
<b>就学路线</b>实线走读，虚线寄宿</div>
<p class="muted" id="xw-map-note">坐标按 UTM（EPSG:{run.region.metric_crs.to_epsg()}）绘制；路程为{basis_zh(run.region, run.policy)}。
滚轮缩放，拖动平移。{syn}</p>
<script type="application/json" id="xw-map-data">{data}</script>
<script>{MAP_JS}</script></div>"""


MAP_CSS = """
.xw-map{margin:.8em 0}.xw-bar{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;margin:.3em 0}
.xw-bar button{font:inherit;padding:.15em .7em;border:1px solid #888;background:#fff;border-radius:4px;cursor:pointer}
.xw-bar button[aria-pressed=true]{background:#2171b5;color:#fff;border-color:#2171b5}
.xw-stages label{margin-right:.6em;white-space:nowrap}.xw-stages i,.xw-legend i{display:inline-block;width:.9em;
height:.9em;margin:0 .25em 0 .1em;vertical-align:-.1em;border-radius:2px}
.xw-body{display:grid;grid-template-columns:minmax(0,1fr) 27em;gap:1em}
#xw-map{width:100%;height:auto;min-height:320px;max-height:80vh;border:1px solid #bbb;background:#fbfbf8;cursor:grab;touch-action:none}
.xw-info{border:1px solid #ddd;padding:.5em .8em;font-size:.9em;max-height:640px;overflow:auto;background:#fafafa}
.xw-info table{font-size:.95em;width:100%}.xw-info th{white-space:nowrap;text-align:left}
.xw-info td,.xw-info th{padding:.2em .4em}.xw-info h3{margin:.2em 0 .4em;font-size:1.1em}
.xw-legend{font-size:.85em;color:#333;margin:.4em 0;display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center}
.xw-legend span{white-space:nowrap}.xw-legend i.dot{border-radius:50%;background:#8c8c8c}
.xw-legend i.dot.red{background:#8c8c8c;box-shadow:0 0 0 2px #b10026 inset}.syn{color:#b10026}
#xw-map .sel{stroke:#000!important;stroke-width:3px!important}
@media (max-width:900px){.xw-body{grid-template-columns:1fr}}
"""

MAP_JS = r"""
(function(){
"use strict";
var D=JSON.parse(document.getElementById("xw-map-data").textContent);
var NS="http://www.w3.org/2000/svg",svg=document.getElementById("xw-map"),info=document.getElementById("xw-info");
var box=document.getElementById("xw-map-box");
var full=[0,0,D.size[0],D.size[1]],vb=full.slice(),period=String(D.periods[0]),showStage=[1,1,1,1],sel=null;
function el(t,a,p){var e=document.createElementNS(NS,t);for(var k in a)e.setAttribute(k,a[k]);if(p)p.appendChild(e);return e;}
function px(){var w=svg.clientWidth||800,h=svg.clientHeight||600;return Math.max(vb[2]/w,vb[3]/h);}
function fmt(v,d){if(v===null||v===undefined||v==="")return"—";if(typeof v==="number")return v.toLocaleString("zh-CN",{maximumFractionDigits:d===undefined?1:d});return String(v);}
function shape(kind,x,y,r){
  if(kind==="circle")return["circle",{cx:x,cy:y,r:r}];
  if(kind==="square")return["rect",{x:x-r*.9,y:y-r*.9,width:r*1.8,height:r*1.8}];
  var pts;
  if(kind==="tri")pts=[[0,-1.2],[1.1,.8],[-1.1,.8]];
  else if(kind==="tridown")pts=[[0,1.2],[1.1,-.8],[-1.1,-.8]];
  else if(kind==="diamond")pts=[[0,-1.3],[1.2,0],[0,1.3],[-1.2,0]];
  else{pts=[];for(var i=0;i<10;i++){var a=Math.PI/5*i-Math.PI/2,q=i%2?0.5:1.4;pts.push([Math.cos(a)*q,Math.sin(a)*q]);}}
  return["polygon",{points:pts.map(function(p){return(x+p[0]*r).toFixed(1)+","+(y+p[1]*r).toFixed(1);}).join(" ")}];
}
function draw(){
  svg.setAttribute("viewBox",vb.join(" "));
  while(svg.firstChild)svg.removeChild(svg.firstChild);
  var k=px(),P=D.periods_data[period],S=D.schools,V=D.villages;
  el("path",{d:D.boundary,fill:"#f2f0e6",stroke:"#444","stroke-width":1.2*k,"fill-rule":"evenodd"},svg);
  var gl=el("g",{"stroke-linecap":"round"},svg),L=P.lines;
  for(var i=0;i<L.v.length;i++){
    if(!showStage[L.g[i]])continue;
    var a={x1:V.x[L.v[i]],y1:V.y[L.v[i]],x2:S.x[L.s[i]],y2:S.y[L.s[i]],stroke:D.colours.stage[L.g[i]],"stroke-width":1.1*k,"stroke-opacity":.65,"class":"xw-line"};
    if(L.b[i])a["stroke-dasharray"]=(4*k)+" "+(3*k);
    el("line",a,gl);
  }
  var gv=el("g",{},svg),PV=P.villages;
  for(i=0;i<PV.i.length;i++){
    var j=PV.i[i],n=PV.pupils[i]||0,un=0;
    for(var g=0;g<4;g++)un+=PV[D.stage_codes[g]+"_unsrv"][i]||0;
    var c=el("circle",{cx:V.x[j],cy:V.y[j],r:(2.5+0.22*Math.sqrt(n))*k,fill:D.colours.village,"fill-opacity":.75,
      stroke:un>0.5?D.colours.unserved:"#fff","stroke-width":(un>0.5?2:0.6)*k,"class":"xw-village","data-id":V.id[j],tabindex:0},gv);
    el("title",{},c).textContent=V.name[j]+"（"+fmt(n,0)+" 名学生）";
    c.addEventListener("click",pick("village",i));
  }
  var gt=el("g",{"font-size":12*k,fill:"#555","text-anchor":"middle"},svg);
  for(i=0;i<D.seats.name.length;i++){var t=el("text",{x:D.seats.x[i],y:D.seats.y[i]-12*k},gt);t.textContent=D.seats.name[i];}
  var gs=el("g",{},svg),PS=P.schools;
  for(i=0;i<PS.i.length;i++){
    j=PS.i[i];var sh=shape(PS.draw[i],S.x[j],S.y[j],5.5*k);
    sh[1].fill=D.colours.action[PS.code[i]]||"#bdbdbd";sh[1].stroke="#333";sh[1]["stroke-width"]=0.8*k;
    sh[1]["class"]="xw-school";sh[1]["data-id"]=S.id[j];sh[1].tabindex=0;
    var e=el(sh[0],sh[1],gs);
    if(PS.beds[i]>0)el("circle",{cx:S.x[j],cy:S.y[j],r:9*k,fill:"none",stroke:"#000","stroke-width":k,"pointer-events":"none"},gs);
    el("title",{},e).textContent=S.name[j]+"（"+PS.action[i]+"）";
    e.addEventListener("click",pick("school",i));
  }
  scale(k);
  if(sel)show(sel.type,sel.id);
  var btn=box.querySelectorAll("[data-period]");
  for(i=0;i<btn.length;i++)btn[i].setAttribute("aria-pressed",btn[i].getAttribute("data-period")===period?"true":"false");
  box.setAttribute("data-period",period);
}
function scale(k){
  var W=vb[2],step=[100,200,500,1000,2000,5000,10000,20000,50000],L=step[0];
  for(var i=0;i<step.length;i++)if(step[i]<=W/5)L=step[i];
  var x=vb[0]+20*k,y=vb[1]+vb[3]-20*k,g=el("g",{},svg);
  el("rect",{x:x-6*k,y:y-22*k,width:L+40*k,height:30*k,fill:"#fff","fill-opacity":.8},g);
  el("line",{x1:x,y1:y,x2:x+L,y2:y,stroke:"#000","stroke-width":3*k},g);
  var t=el("text",{x:x+L+4*k,y:y-4*k,"font-size":11*k},g);t.textContent=(L>=1000?L/1000+" 公里":L+" 米");
}
function pick(type,i){return function(ev){ev.stopPropagation();var P=D.periods_data[period];
  var id=type==="school"?D.schools.id[P.schools.i[i]]:D.villages.id[P.villages.i[i]];sel={type:type,id:id};draw();};}
function row(k,v){return"<tr><th>"+k+"</th><td>"+v+"</td></tr>";}
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return{"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c];});}
function show(type,id){
  var P=D.periods_data[period],h="",i,j;
  var marks=svg.querySelectorAll(".sel");for(i=0;i<marks.length;i++)marks[i].classList.remove("sel");
  if(type==="school"){
    j=D.schools.id.indexOf(id);i=P.schools.i.indexOf(j);
    if(i<0){info.innerHTML="<p class=\"muted\">"+esc(D.schools.name[j]||id)+" 在 "+period+" 年不在布局中。</p>";return;}
    var s=P.schools;
    h="<h3>"+esc(D.schools.name[j])+"</h3><table>"+row("类型",esc(D.schools.kind[j]))+row("乡镇",esc(D.schools.town[j]))+
      row("规划期",period+" 年")+row("调整",esc(s.action[i]))+row("学段",esc(s.stages_bf[i]||"—")+" → "+esc(s.stages_af[i]||"—"))+
      row("班数（班）",fmt(s.class_bf[i],0)+" → "+fmt(s.class_af[i],0))+row("学位（个）",fmt(s.places_bf[i],0)+" → "+fmt(s.places_af[i],0))+
      row("学生（人）",fmt(s.pupils[i]))+row("寄宿生（人）",fmt(s.board_pup[i]))+row("寄宿床位（张）",fmt(s.beds[i],0))+
      (s.merged[i]?row("并入",esc(s.merged[i])):"")+row("建设投入（万元）",fmt(s.cost[i]))+"</table>";
  }else{
    j=D.villages.id.indexOf(id);i=P.villages.i.indexOf(j);if(i<0)return;var v=P.villages;
    h="<h3>"+esc(D.villages.name[j])+"</h3><p>"+esc(D.villages.town[j])+"，"+period+" 年，学生 "+fmt(v.pupils[i])+" 人</p>"+
      "<table><thead><tr><th>学段</th><th>学生<br>（人）</th><th>就读学校</th><th>路程<br>（km）</th><th>寄宿<br>（人）</th><th>未安排<br>（人）</th></tr></thead><tbody>";
    for(var g=0;g<4;g++){var c=D.stage_codes[g];if(!(v[c+"_dem"][i]>0))continue;var ns=v[c+"_nsch"][i];
      h+="<tr><td>"+D.stages[g]+"</td><td class=\"n\">"+fmt(v[c+"_dem"][i])+"</td><td>"+esc(v[c+"_schname"][i]||"—")+(ns>1?"（另 "+(ns-1)+" 所）":"")+
        "</td><td class=\"n\">"+fmt(v[c+"_km"][i],2)+"</td><td class=\"n\">"+fmt(v[c+"_board"][i])+"</td><td class=\"n\">"+fmt(v[c+"_unsrv"][i])+"</td></tr>";}
    h+="</tbody></table>";
  }
  info.innerHTML=h;info.setAttribute("data-selected",type+":"+id);
  var m=svg.querySelector(".xw-"+type+"[data-id=\""+id.replace(/"/g,'\\"')+"\"]");if(m)m.classList.add("sel");
}
box.addEventListener("click",function(ev){
  var t=ev.target;
  if(t.hasAttribute("data-period")){period=t.getAttribute("data-period");draw();}
  else if(t.hasAttribute("data-zoom")){var f=+t.getAttribute("data-zoom");zoom(f,vb[0]+vb[2]/2,vb[1]+vb[3]/2);}
});
box.addEventListener("change",function(ev){var t=ev.target;if(t.hasAttribute("data-stage")){showStage[+t.getAttribute("data-stage")]=t.checked?1:0;draw();}});
function zoom(f,cx,cy){if(!f){vb=full.slice();}else{var w=vb[2]/f,h=vb[3]/f;vb=[cx-(cx-vb[0])/f,cy-(cy-vb[1])/f,w,h];}draw();}
function toMap(ev){var r=svg.getBoundingClientRect(),k=px(),ox=(r.width*k-vb[2])/2,oy=(r.height*k-vb[3])/2;
  return[vb[0]-ox+(ev.clientX-r.left)*k,vb[1]-oy+(ev.clientY-r.top)*k];}
svg.addEventListener("wheel",function(ev){ev.preventDefault();var p=toMap(ev);zoom(ev.deltaY<0?1.25:0.8,p[0],p[1]);},{passive:false});
var drag=null;
svg.addEventListener("pointerdown",function(ev){drag=[ev.clientX,ev.clientY,vb[0],vb[1]];});
svg.addEventListener("pointermove",function(ev){if(!drag)return;var k=px(),dx=ev.clientX-drag[0],dy=ev.clientY-drag[1];
  if(Math.abs(dx)+Math.abs(dy)<3)return;vb[0]=drag[2]-dx*k;vb[1]=drag[3]-dy*k;svg.setAttribute("viewBox",vb.join(" "));});
svg.addEventListener("pointerup",function(){if(drag&&(vb[0]!==drag[2]||vb[1]!==drag[3]))draw();drag=null;});
window.addEventListener("resize",draw);
var q={};location.hash.replace(/^#/,"").split("&").forEach(function(kv){var p=kv.split("=");if(p[0])q[p[0]]=decodeURIComponent(p[1]||"");});
if(q.period&&D.periods_data[q.period])period=q.period;
draw();
if(q.select){var tp=q.select.split(":")[0],id=q.select.slice(tp.length+1);
  var m=svg.querySelector(".xw-"+tp+"[data-id=\""+id.replace(/"/g,'\\"')+"\"]");
  if(m)m.dispatchEvent(new MouseEvent("click",{bubbles:true}));}
})();
"""
