"""The corridor's standard indicators, seeded by migration `0005_standard_indicators`.
Managers maintain them in the admin afterwards; the seed only adds codes not yet there."""

# (code, Chinese name, English name, unit, higher is better)
STANDARD_INDICATORS = (
    ("containers-moved", "集装箱运量", "Containers moved", "TEU", True),
    ("cargo-tonnes", "货运量", "Cargo moved", "tonnes", True),
    ("transit-days-saved", "运输时间节省", "Transit days saved", "days", True),
    ("logistics-cost-change", "物流成本变化", "Logistics cost change", "%", False),
    ("trade-value", "贸易额", "Trade value", "CNY", True),
    ("investment-value", "投资额", "Investment", "CNY", True),
    ("jobs-created", "带动就业", "Jobs created", "jobs", True),
    ("people-trained", "培训人数", "People trained", "people", True),
    ("students-exchanged", "交流学生人数", "Students exchanged", "people", True),
    ("visitors", "游客人次", "Visitors", "visits", True),
    ("enterprises-served", "服务企业数", "Enterprises served", "enterprises", True),
    ("livelihood-projects", "民生项目数", "Livelihood projects", "projects", True),
)


def seed_standard_indicators(apps=None) -> int:
    """Create the standard indicators that do not exist yet; returns how many."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    model = apps.get_model("projects", "StandardIndicator")
    existing = set(model.objects.values_list("code", flat=True))
    rows = [
        model(code=code, name_zh=zh, name_en=en, unit=unit, ascending=ascending, sort_order=i)
        for i, (code, zh, en, unit, ascending) in enumerate(STANDARD_INDICATORS, start=1)
        if code not in existing
    ]
    model.objects.bulk_create(rows)
    return len(rows)
