"""Chinese labels for the English codes used in tables (the glossary of DESIGN.md)."""

STAGE_ZH = {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "普通高中",
            "vocational": "中职", "special": "特殊教育"}
KIND_ZH = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "nine_year": "九年一贯制",
           "complete_secondary": "完全中学", "senior": "高中", "twelve_year": "十二年一贯制", "teaching_point": "教学点",
           "vocational": "中职学校", "special": "特殊教育学校"}
ACTION_ZH = {"keep": "保留", "expand": "改扩建", "shrink": "缩减", "build": "新建", "merge": "合并", "close": "撤销",
             "convert": "转变"}
VARIANT_ZH = {"low": "低方案", "mid": "中方案", "high": "高方案"}
TIER_ZH = {"county_seat": "县城", "cluster_centre": "片区中心", "central_town": "中心镇", "township_seat": "乡镇驻地"}


def model_zh(name: str) -> str:
    """A layout model's name in Chinese: ``junior#2`` → 初中（第 2 片）."""
    stage, _, part = name.partition("#")
    label = "+".join(STAGE_ZH.get(g, g) for g in stage.split("+"))
    return f"{label}（第 {part} 片）" if part else label
