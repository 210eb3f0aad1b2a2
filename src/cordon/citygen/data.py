"""Reference data for the synthetic city: districts, streets, name pools and distributions.

Pure data, no Django. Sources and assumptions are listed in ``cordon.citygen`` (the package docstring).
"""
from __future__ import annotations

# (name, region code of GB/T 2260, relative weight = approximate resident population in thousands
#  (2020 census order of magnitude; Lanzhou New Area, which the census counts separately, is left out),
#  households per street/town at full scale, streets/towns in the order they are used).
# 街道 are urban streets (communities 社区, compounds 小区); 镇/乡 are rural towns (villages 村, groups 组),
# except the town seats listed in ``URBAN_TOWNS`` which behave like urban streets.
DISTRICTS: list[tuple[str, str, int, int, list[str]]] = [
    ("城关区", "620102", 1490, 14000, [
        "皋兰路街道", "酒泉路街道", "张掖路街道", "雁南街道", "临夏路街道", "雁北街道", "五泉街道", "白银路街道",
        "广武门街道", "伏龙坪街道", "靖远路街道", "草场街街道", "火车站街道", "拱星墩街道", "东岗街道",
        "团结新村街道", "东岗西路街道", "铁路东村街道", "铁路西村街道", "渭源路街道", "盐场路街道",
        "嘉峪关路街道", "焦家湾街道", "青白石街道", "雁园街道", "九州街道", "草场街南街道", "高新区街道",
    ]),
    ("七里河区", "620103", 600, 12000, [
        "西园街道", "西湖街道", "建兰路街道", "敦煌路街道", "西站街道", "晏家坪街道", "龚家湾街道",
        "土门墩街道", "秀川街道", "彭家坪镇", "阿干镇", "八里镇", "西果园镇", "黄峪镇", "魏岭乡",
    ]),
    ("西固区", "620104", 380, 10000, [
        "陈坪街道", "先锋路街道", "福利路街道", "西固城街道", "四季青街道", "临洮街街道", "西柳沟街道",
        "新城镇", "东川镇", "河口镇", "达川镇", "柳泉镇", "金沟乡",
    ]),
    ("安宁区", "620105", 450, 12000, [
        "培黎街道", "西路街道", "沙井驿街道", "十里店街道", "孔家崖街道", "银滩路街道", "刘家堡街道",
        "安宁堡街道",
    ]),
    ("红古区", "620111", 150, 6000, [
        "华龙街道", "矿区街道", "窑街街道", "下窑街道", "海石湾镇", "花庄镇", "平安镇", "红古镇",
    ]),
    ("永登县", "620121", 410, 5500, [
        "城关镇", "红城镇", "中堡镇", "武胜驿镇", "河桥镇", "连城镇", "苦水镇", "大同镇", "龙泉寺镇",
        "树屏镇", "上川镇", "柳树镇", "坪城乡", "民乐乡", "通远乡", "七山乡",
    ]),
    ("皋兰县", "620122", 140, 5500, [
        "石洞镇", "忠和镇", "九合镇", "水阜镇", "黑石镇", "什川镇", "西岔镇",
    ]),
    ("榆中县", "620123", 430, 5500, [
        "城关镇", "夏官营镇", "高崖镇", "金崖镇", "和平镇", "甘草店镇", "青城镇", "定远镇", "连搭镇",
        "新营镇", "贡井乡", "来紫堡乡", "马坡乡", "清水驿乡", "龙泉乡", "韦营乡", "中连川乡", "园子岔乡",
        "上花岔乡", "哈岘乡",
    ]),
]

# County seats and large towns that are built up like a city (社区 and 小区 rather than 村 and 组).
URBAN_TOWNS = {("永登县", "城关镇"), ("榆中县", "城关镇"), ("皋兰县", "石洞镇"), ("红古区", "海石湾镇"),
               ("七里河区", "彭家坪镇"), ("榆中县", "和平镇")}

# First communities / compounds by street / community, so well-known paths exist at every size.
FIRST_COMMUNITIES = {("城关区", "皋兰路街道"): ["五泉社区", "白银路社区"]}
FIRST_COMPOUNDS = {("城关区", "皋兰路街道", "五泉社区"): ["五泉小区"],
                   ("城关区", "皋兰路街道", "白银路社区"): ["白银小区"]}

# Two-character place words for community and compound names (Lanzhou flavour plus common ones).
PLACE_WORDS = (
    "五泉 金城 滨河 雁滩 东岗 南关 西关 北山 黄河 兰山 白塔 华林 秀川 桃园 枣林 红山 马滩 龚家 彭家 柳沟 龙泉 "
    "银滩 崔家 段家 盐场 庙滩 徐家 伏龙 拱星 焦家 雁园 嘉峪 平凉 天水 静宁 武都 定西 广武 靖远 临夏 白银 张掖 "
    "酒泉 民勤 民主 团结 建设 和平 幸福 光明 红星 新华 东方 朝阳 阳光 锦绣 翠华 怡和 佳园 丽景 金港 紫金 世纪 "
    "欣园 泰和 锦华 瑞德 宁卧 畅家 硷沟 石门 大砂 小砂 营门 水磨 东湖 西湖 南河 北滨 中山 皋兰 榆中 安宁 七里 "
    "培黎 万新 鸿运 润泽 晨光 绿洲 长城 铁路 电力 石化 兰化 兰炼 西站 土门 敦煌 建兰 晏家 孔家 刘家 沙井 十里 "
    "费家 杨家 骆驼 草场 火星 渭源 永昌 秦安 甘南 陇西 通渭 会宁 岷县 敦化 兴隆 仁寿 九州 青白 桥门 官园 颜家"
).split()

COMPOUND_SUFFIXES = ("小区",) * 6 + ("家园", "花园", "新村", "苑", "公寓", "佳苑")

VILLAGE_WORDS = (
    "王家 李家 张家 马家 何家 陈家 魏家 赵家 杨家 周家 刘家 黄家 孙家 苏家 韩家 金家 石家 丁家 鲁家 段家 "
    "上川 下川 新庄 红庄 大坪 小坪 石门 河湾 沙河 崖头 柳树 杏花 梨园 水阜 西坡 东坡 南滩 北滩 前进 红星 "
    "新民 永丰 和平 团庄 中堡 罗城 大湾 小湾 高家 岘口 白崖 青石 黑石 泉头 井儿 烽台 旧堡 新堡 双墩 三角"
).split()

# Surnames with their approximate share in Lanzhou (national ranking, with 马 raised for the Hui community).
SURNAMES: list[tuple[str, float]] = [
    ("王", 7.6), ("李", 7.4), ("张", 7.0), ("刘", 5.4), ("马", 4.0), ("陈", 3.6), ("杨", 3.5), ("赵", 2.4),
    ("黄", 1.6), ("周", 1.6), ("吴", 1.4), ("徐", 1.3), ("孙", 1.4), ("朱", 1.2), ("胡", 1.1), ("郭", 1.4),
    ("何", 1.0), ("高", 1.3), ("罗", 0.8), ("魏", 1.0), ("牛", 0.7), ("苏", 0.6), ("韩", 0.9), ("冯", 0.7),
    ("董", 0.8), ("宋", 0.7), ("曹", 0.7), ("许", 0.6), ("邓", 0.4), ("谢", 0.5), ("金", 0.5), ("丁", 0.6),
    ("田", 0.6), ("袁", 0.5), ("蒋", 0.4), ("潘", 0.4), ("杜", 0.6), ("彭", 0.5), ("吕", 0.5), ("姚", 0.5),
    ("雷", 0.5), ("景", 0.3), ("任", 0.6), ("姜", 0.4), ("崔", 0.4), ("康", 0.4), ("余", 0.3), ("贾", 0.5),
    ("毛", 0.3), ("段", 0.5), ("白", 0.5), ("汪", 0.5), ("孔", 0.3), ("邵", 0.3), ("石", 0.4), ("常", 0.4),
    ("包", 0.2), ("祁", 0.3), ("鲁", 0.3), ("安", 0.3), ("司马", 0.02), ("欧阳", 0.03), ("诸葛", 0.01),
]

# Given-name characters by sex and era (born before 1980 / from 1980).
GIVEN = {
    ("M", 0): "建国 建军 建华 国强 国庆 志强 志刚 永红 永平 德明 德胜 文明 文华 学军 振华 卫东 福生 长海 海军 "
              "军 强 刚 伟 勇 明 平 斌 林 华 忠 峰 东",
    ("F", 0): "秀英 桂英 秀兰 玉兰 桂兰 淑珍 凤英 玉珍 玉梅 秀珍 丽华 红梅 春梅 秀云 桂芳 淑英 翠兰 金花 "
              "英 兰 芳 霞 梅 珍 红 萍 华 琴 娟 燕",
    ("M", 1): "浩然 宇轩 子轩 俊杰 浩宇 梓豪 一鸣 博文 子涵 天佑 泽宇 明轩 鹏飞 晨阳 家豪 振宇 思远 文博 "
              "伟 磊 鑫 涛 杰 超 鹏 帅 凯 龙 昊 宇 睿",
    ("F", 1): "欣怡 子涵 梓涵 诗涵 雨桐 一诺 佳怡 思雨 梦瑶 雅琪 静怡 可欣 紫萱 晓雪 婷婷 丽娜 雨欣 佳琪 "
              "婷 敏 静 丽 娜 洁 颖 倩 雪 悦 琳",
}
# Extra second characters combined with the first characters above, to widen the pool.
GIVEN_TAILS = {
    ("M", 0): "明 华 平 军 林 生 山 成 祥 荣",
    ("F", 0): "英 兰 珍 芳 梅 霞 花 琴 莲 凤",
    ("M", 1): "轩 宇 博 然 泽 航 杰 晨 阳 睿",
    ("F", 1): "涵 怡 萱 琪 雪 瑶 婷 欣 悦 彤",
}
GIVEN_HEADS = {
    ("M", 0): "建 国 志 永 德 文 学 振 福 长 海 玉",
    ("F", 0): "秀 桂 玉 淑 凤 丽 红 春 翠 金 素 月",
    ("M", 1): "浩 子 俊 梓 一 天 泽 明 鹏 家 思 嘉",
    ("F", 1): "欣 梓 诗 雨 佳 思 梦 雅 静 可 紫 晓",
}

# Household sizes: China 2020 census (family households): share of households by size (mean ~2.62).
HOUSEHOLD_SIZES = {1: 25.39, 2: 29.68, 3: 20.99, 4: 13.17, 5: 6.17, 6: 2.83, 7: 1.06, 8: 0.42, 9: 0.17, 10: 0.12}

# Age structure: China 2020 census, percent of residents by 5-year group (0-4 ... 85-89, 90+), with the
# 0-4 group split by single year to reflect falling births 2018-2022 (age 0 ~0.8 %).
AGE_GROUPS = [5.47, 6.07, 5.94, 5.27, 5.28, 6.56, 8.79, 6.99, 6.62, 8.10, 8.65, 7.22, 5.17, 5.46, 3.72, 2.34,
              1.52, 0.78, 0.28]
AGE_0_4 = [0.80, 0.95, 1.10, 1.25, 1.37]
MAX_AGE = 100

# Mobile number prefixes (China Mobile / Unicom / Telecom segments common in Gansu).
PHONE_PREFIXES = (139, 138, 137, 136, 135, 134, 150, 151, 152, 157, 158, 159, 182, 183, 187, 188, 198,
                  130, 131, 132, 155, 156, 185, 186, 166, 133, 153, 180, 181, 189, 177, 173, 199)

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 35 -> 三十五, 101 -> 一百零一."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n - 10] if n > 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + CN_DIGITS[rest] if rest < 10 else ("一" if rest < 20 else "") + cn_number(rest))
    return CN_DIGITS[n // 100] + "百" + tail

# Where each district lies (lon0, lat0, lon1, lat1 in WGS 84 degrees): boxes that do not overlap, placed and
# sized roughly as the real districts and counties (the urban four along the Yellow River valley around
# 103.6-104.0 E, 36.0-36.2 N; 红古 far west, 永登 north, 皋兰 north-east, 榆中 south-east), all inside
# Lanzhou's extent (102.4-104.6 E, 35.5-37.1 N). ``citygen.geometry`` lays each district's tree out in its box.
DISTRICT_BOXES: dict[str, tuple[float, float, float, float]] = {
    "城关区": (103.78, 36.02, 103.98, 36.12),
    "七里河区": (103.62, 35.80, 103.78, 36.08),
    "西固区": (103.40, 35.98, 103.62, 36.16),
    "安宁区": (103.62, 36.08, 103.78, 36.16),
    "红古区": (102.70, 36.20, 103.05, 36.40),
    "永登县": (102.80, 36.42, 103.60, 37.08),
    "皋兰县": (103.60, 36.17, 104.20, 36.60),
    "榆中县": (103.99, 35.52, 104.58, 36.15),
}
#: Lanzhou's extent (lon0, lat0, lon1, lat1).
EXTENT = (102.4, 35.5, 104.6, 37.1)
