from registry.models import Country, CountryGroup, Sector


def test_all_249_countries_have_chinese_and_english_names(db):
    assert Country.objects.count() == 249
    assert not Country.objects.filter(name_zh="").exists()
    assert not Country.objects.filter(name_en="").exists()
    assert Country.objects.get(iso2="LA").name_zh == "老挝"


def test_chinese_official_usage_for_taiwan_hong_kong_macao(db):
    names = dict(Country.objects.filter(iso2__in=["TW", "HK", "MO"]).values_list("iso2", "name_zh"))
    assert names == {"TW": "中国台湾", "HK": "中国香港", "MO": "中国澳门"}


def test_group_sizes(db):
    sizes = {g.code: g.members.count() for g in CountryGroup.objects.all()}
    assert sizes["asean"] == 11
    assert sizes["rcep"] == 15
    assert sizes["sco"] == 10
    assert CountryGroup.objects.get(code="asean").members.filter(iso2="TL").exists()
    assert CountryGroup.objects.get(code="central-asia").members.filter(iso2="KZ").exists()


def test_sectors_are_two_levels_and_flag_people_to_people(db):
    assert not Sector.objects.filter(parent__parent__isnull=False).exists()
    assert set(
        Sector.objects.filter(parent__isnull=True, people_to_people=True).values_list(
            "code", flat=True
        )
    ) >= {"culture", "education"}


def test_loading_twice_changes_nothing(db):
    from registry.reference import load_reference

    report = load_reference()
    assert report.created == {} and report.updated == {}
