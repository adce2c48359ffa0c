"""Keyset-paged document reads (appliance/store/pages.py) on both backends: order, cursor, prefix,
bounds, and the count."""
from __future__ import annotations

from appliance.store.pages import MAX_PAGE, doc_count, doc_page


def test_pages_follow_the_cursor_within_the_prefix(store):
    keys = [f"nas{n}|s{i:03d}" for n in (1, 2) for i in range(7)]
    store.transact(lambda l: [l.put_doc("radius_session", k, {"i": k}) for k in keys]
                   + [l.put_doc("other_kind", "nas1|s000", {"i": "x"})])
    seen, after = [], ""
    for _ in range(10):
        page = store.transact(lambda l: doc_page(l, "radius_session", prefix="nas1|", after=after, limit=3))  # noqa: B023
        if not page:
            break
        assert len(page) <= 3 and all(k.startswith("nas1|") and d == {"i": k} for k, d in page)
        seen += [k for k, _ in page]
        after = page[-1][0]
    assert seen == sorted(k for k in keys if k.startswith("nas1|"))
    whole = store.transact(lambda l: doc_page(l, "radius_session", limit=100))
    assert [k for k, _ in whole] == sorted(keys)
    assert store.transact(lambda l: doc_page(l, "radius_session", after="nas1|s003", limit=2)) == \
        [("nas1|s004", {"i": "nas1|s004"}), ("nas1|s005", {"i": "nas1|s005"})]
    assert store.transact(lambda l: doc_page(l, "radius_session", after="nas9", limit=5)) == []
    assert store.transact(lambda l: (doc_count(l, "radius_session"), doc_count(l, "radius_session", "nas2|"),
                                     doc_count(l, "nothing"))) == (14, 7, 0)


def test_a_page_is_bounded(store):
    store.transact(lambda l: [l.put_doc("gx_session", f"k{i:04d}", {}) for i in range(MAX_PAGE + 20)])
    assert len(store.transact(lambda l: doc_page(l, "gx_session", limit=10 ** 6))) == MAX_PAGE
    assert len(store.transact(lambda l: doc_page(l, "gx_session", limit=0))) == 1
