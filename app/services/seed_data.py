"""Demo data of CONTRACT §3. All names and codes are synthetic and say 示例."""

from __future__ import annotations

DEPARTMENTS = [
    ("service_center", "区行政服务中心", "区行政服务中心"),
    ("samr", "区市场监管局", "上海市嘉定区市场监督管理局"),
    ("ndrc", "区发展改革委", "上海市嘉定区发展和改革委员会"),
    ("tax", "区税务局", "国家税务总局上海市嘉定区税务局"),
]

SUBJECTS = [
    # uscc, name, entity_type, legal representative, registration authority, region, grade
    (
        "91310114MA1GT8QX92",
        "上海澄溪示例食品有限公司",
        "有限责任公司（自然人投资或控股）",
        "王某某",
        "上海市嘉定区市场监督管理局",
        "310114",
        "B",
    ),
    (
        "91310105MAAY4CL126",
        "上海虹桥示例商贸有限公司",
        "有限责任公司（自然人独资）",
        "陈某某",
        "上海市长宁区市场监督管理局",
        "310105",
        "A",
    ),
    (
        "91370200MADD272H4F",
        "青岛海岸示例物流有限公司",
        "有限责任公司",
        "刘某某",
        "青岛市市场监督管理局",
        "370200",
        "C",
    ),
    (
        "91310115MAC4R7LN0W",
        "上海浦东示例科技有限公司",
        "有限责任公司",
        "赵某某",
        "上海市浦东新区市场监督管理局",
        "310115",
        "D",
    ),
    (
        "91330205MAC96PGY8J",
        "宁波江北示例制造有限公司",
        "有限责任公司",
        "孙某某",
        "宁波市江北区市场监督管理局",
        "330205",
        "A",
    ),
]

# (username, role, approver role, department code, uscc, display name)
USERS = [
    ("ent_chengxi", "enterprise", None, None, "91310114MA1GT8QX92", "上海澄溪示例食品有限公司"),
    ("ent_hongqiao", "enterprise", None, None, "91310105MAAY4CL126", "上海虹桥示例商贸有限公司"),
    ("ent_haian", "enterprise", None, None, "91370200MADD272H4F", "青岛海岸示例物流有限公司"),
    ("clerk_window", "approver", "window", "service_center", None, "一口受理窗口（示例）"),
    ("rev_samr", "approver", "reviewer", "samr", None, "市场监管局审核员（示例）"),
    ("rev_ndrc", "approver", "reviewer", "ndrc", None, "发展改革委审核员（示例）"),
    ("rev_tax", "approver", "reviewer", "tax", None, "税务局审核员（示例）"),
    ("insp_samr", "approver", "inspector", "samr", None, "市场监管局核查员（示例）"),
    ("lead_samr", "approver", "leader", "samr", None, "市场监管局分管领导（示例）"),
    ("lead_ndrc", "approver", "leader", "ndrc", None, "发展改革委分管领导（示例）"),
    ("lead_tax", "approver", "leader", "tax", None, "税务局分管领导（示例）"),
    ("lead_center", "approver", "leader", "service_center", None, "行政服务中心分管领导（示例）"),
    ("owner", "process_owner", None, None, None, "流程管理员（示例）"),
    ("admin", "admin", None, None, None, "系统管理员（示例）"),
]

# Records: days_ago is counted back from the seed date, so the demo stays valid over time.
# (uscc, key, type, severity, department, days_ago, sector, decision text, violation, penalty)
RECORDS = [
    (
        "91310114MA1GT8QX92",
        "samr-general",
        "administrative_penalty",
        "general",
        "samr",
        230,
        None,
        "嘉市监处罚〔{year}〕9356号",
        "经营标签不符合规定的预包装食品",
        "没收违法所得人民币860元；罚款人民币20000元",
        20000,
    ),
    (
        "91310114MA1GT8QX92",
        "ndrc-general",
        "administrative_penalty",
        "general",
        "ndrc",
        150,
        None,
        "嘉发改价处〔{year}〕0117号",
        "未按规定明码标价",
        "罚款人民币5000元",
        5000,
    ),
    (
        "91310114MA1GT8QX92",
        "tax-general",
        "administrative_penalty",
        "general",
        "tax",
        120,
        None,
        "嘉税稽罚〔{year}〕0452号",
        "未按期办理纳税申报",
        "罚款人民币2000元",
        2000,
    ),
    (
        "91310114MA1GT8QX92",
        "samr-serious",
        "administrative_penalty",
        "serious",
        "samr",
        100,
        None,
        "嘉市监处罚〔{year}〕9877号",
        "生产经营超过保质期的食品",
        "罚款人民币150000元；限制从业",
        150000,
    ),
    (
        "91310114MA1GT8QX92",
        "samr-abnormal",
        "abnormal_operations",
        None,
        "samr",
        60,
        None,
        "嘉市监异〔{year}〕0031号",
        "未按规定报送年度报告",
        "列入经营异常名录",
        None,
    ),
    (
        "91310105MAAY4CL126",
        "hq-minor",
        "administrative_penalty",
        "minor",
        "samr",
        40,
        None,
        "长市监处罚〔{year}〕9088号",
        "未按规定公示即时信息",
        "通报批评",
        None,
    ),
    (
        "91310105MAAY4CL126",
        "hq-general",
        "administrative_penalty",
        "general",
        "ndrc",
        300,
        None,
        "长发改处〔{year}〕0209号",
        "招标投标活动中提供虚假材料",
        "罚款人民币30000元",
        30000,
    ),
    (
        "91370200MADD272H4F",
        "ha-serious",
        "administrative_penalty",
        "serious",
        "tax",
        200,
        None,
        "青税稽罚〔{year}〕1106号",
        "虚开增值税普通发票",
        "罚款人民币200000元",
        200000,
    ),
    (
        "91310115MAC4R7LN0W",
        "pd-list",
        "serious_dishonesty_list",
        "serious",
        "ndrc",
        90,
        None,
        "浦发改信〔{year}〕0008号",
        "拒不履行行政处罚决定",
        "列入严重失信主体名单",
        None,
    ),
]

NOTICE_FOOD = (
    "一、证明义务：申请人应具备与所经营食品品种、数量相适应的经营场所、设备设施和食品安全管理制度。\n"
    "二、证明内容：经营场所合法使用证明、食品安全管理制度文本、从业人员健康证明。\n"
    "三、承诺方式：申请人书面承诺已符合上述条件，审批机关不再索要相关证明。\n"
    "四、核查：审批机关将在作出决定后两个月内通过书面核查或实地调查方式核查承诺内容。\n"
    "五、法律责任：承诺不实的，审批机关依法撤销行政许可，并将虚假承诺记入信用记录。"
)
NOTICE_PROJECT = (
    "一、证明义务：项目单位应确保项目符合国家产业政策，项目信息真实、准确、完整。\n"
    "二、证明内容：项目建设地点使用权证明、企业投资项目情况说明。\n"
    "三、核查：备案机关将通过网络核验或实地调查方式核查。\n"
    "四、法律责任：承诺不实的，撤销备案并记入信用记录，不再适用告知承诺方式。"
)

# (code, name, department, notify_commit, rongque, promised WD, verification WD, notice,
#  [(material code, name, kind, deferral WD)])
MATTERS = [
    (
        "SAMR-SPJY-001",
        "食品经营许可（新办）",
        "samr",
        True,
        True,
        10,
        40,
        NOTICE_FOOD,
        [
            ("application_form", "食品经营许可申请书", "core", None),
            ("business_licence", "营业执照复印件", "core", None),
            ("premises_proof", "经营场所合法使用证明", "core", None),
            ("safety_rules", "食品安全管理制度文本", "deferrable", 5),
            ("health_certificates", "从业人员健康证明", "deferrable", 7),
        ],
    ),
    (
        "NDRC-XMBA-002",
        "企业投资项目备案",
        "ndrc",
        True,
        True,
        5,
        20,
        NOTICE_PROJECT,
        [
            ("filing_form", "企业投资项目备案表", "core", None),
            ("site_proof", "项目建设地点使用权证明", "deferrable", 3),
            ("project_summary", "项目情况说明", "deferrable", 5),
        ],
    ),
    (
        "TAX-FPXE-003",
        "增值税专用发票最高开票限额审批",
        "tax",
        True,
        False,
        10,
        20,
        "一、证明内容：经营场所、开票需求说明。\n二、承诺不实的，撤销审批并记入纳税信用记录。",
        [
            ("limit_application", "最高开票限额申请表", "core", None),
            ("invoice_need", "开票需求情况说明", "core", None),
        ],
    ),
    (
        "SAMR-TZSB-004",
        "特种设备使用登记",
        "samr",
        False,
        True,
        15,
        None,
        None,
        [
            ("registration_form", "特种设备使用登记表", "core", None),
            ("inspection_report", "定期检验报告", "core", None),
            ("operator_certificates", "作业人员资格证书", "deferrable", 10),
        ],
    ),
]
