from xuewei.data.standards import STATUSES, load_standards, standard


def test_every_value_has_a_source_and_status():
    table = load_standards()
    assert len(table) >= 15
    for key, entry in table.items():
        assert entry.status in STATUSES, key
        assert entry.source.strip(), key
        if entry.status == "assumption":
            assert entry.source.startswith("assumption"), key
        else:
            assert "assumption" not in entry.source, key


def test_gb50099_class_caps():
    assert standard("class_cap.primary") == 45
    assert standard("class_cap.primary_incomplete") == 30
    assert standard("class_cap.junior") == standard("class_cap.senior") == 50
    assert standard("oversized_class.large") == 56
    assert standard("oversized_class.super_large") == 66
    assert standard("service_radius_urban_m") == {"kindergarten": 300, "primary": 500, "junior": 1000}
