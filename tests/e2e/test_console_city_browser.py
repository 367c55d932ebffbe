"""The console's city pages in Chromium on a seeded store (tests/city_seed.py): overview, hand-offs,
SLA and a complaint. Each page's numbers are checked against the API, a chart or map element is
clicked through to the complaints behind it, and screenshots at laptop and phone widths go to
test-output/city/, and with LAPORHUB_UPDATE_SCREENSHOTS=1 also to docs/screenshots/ (the README
shows the overview and the hand-offs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from hub.cli.processes import ApiServer
from hub.settings.runtime import Hub
from tests.browser import LAPTOP, PHONE, Shots, require_browser, sign_in
from tests.city_seed import seed
from tests.harness import key_headers, make_hub

pytestmark = [pytest.mark.browser, pytest.mark.linking]

shoot = Shots("city", docs=True, settle_ms=700)


@pytest.fixture
def city(tmp_path: Path, bus_prefix: str) -> Iterator[tuple[Hub, dict[str, Any]]]:
    require_browser()
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'city.db'}", bus_prefix)
    made = seed(hub)
    yield hub, made
    hub.store.engine.dispose()


def click_chart(page: Any, selector: str, series: int, index: int) -> None:
    """Click bar `index` of `series` on an ECharts canvas, where the chart laid it out."""
    x, y = page.evaluate("""([sel, s, i]) => {
        const el = document.querySelector(sel); el.scrollIntoView({block: "center"});
        const r = el.getBoundingClientRect();
        const box = el.chart.getModel().getSeriesByIndex(s).getData().getItemLayout(i);
        return [r.left + box.x + box.width / 2, r.top + box.y + box.height / 2]; }""", [selector, series, index])
    page.mouse.click(x, y)


def fits_the_phone(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_city_pages_show_the_apis_numbers_and_click_through_to_complaints(city: Any, browser: Any) -> None:
    hub, made = city
    headers = key_headers(hub, "admin", name="Dewi (operations)")
    admin = headers["authorization"].split()[1]
    api = ApiServer(hub, port=0).start()
    base = f"http://127.0.0.1:{api.port}"
    get = lambda path: requests.get(f"{base}{path}", headers=headers, timeout=30).json()  # noqa: E731
    try:
        page = browser.new_page(viewport=LAPTOP)
        sign_in(page, base, admin)
        page.wait_for_selector('input[data-rule="water"]')

        # Overview: the figures are the API's; a kecamatan on the map lists its open complaints.
        overview = get("/v1/admin/reports/overview?since=30d")
        page.goto(f"{base}/admin#/overview")
        page.wait_for_selector("#overview-map path[data-kode='31.71.01']")
        for key in ("open", "overdue", "resolved", "complaints"):
            assert page.inner_text(f"#total-{key} .stat-value") == str(overview["totals"][key]), key
        assert "WIB" in page.inner_text("#map-legend")
        busiest = overview["by_kecamatan"][0]
        page.click(f'#overview-map path[data-kode="{busiest["kode"]}"]', force=True)
        page.wait_for_selector("#behind-table")
        assert page.inner_text("#behind-title").endswith(f"{busiest['open']} complaint{'s' if busiest['open'] != 1 else ''}")
        assert page.locator("#behind-table tbody tr").count() == busiest["open"]
        assert page.locator(".incident-marker").count() == len(overview["incidents"]) >= 1
        shoot(page, "overview-laptop")
        series = overview["per_day"]["series"]
        s, i = next((s, i) for s, row in enumerate(series) for i, n in enumerate(row["counts"]) if n)
        click_chart(page, "#chart-per-day", s, i)
        # A selector, not wait_for_function: the console's CSP (script-src 'self') refuses eval.
        page.wait_for_selector(f"#behind-title:has-text('{series[s]['category']} on')")
        day = overview["per_day"]["days"][i]
        assert page.locator("#behind-table tbody tr").count() == series[s]["counts"][i]
        page.click("#behind-table a.behind-link >> nth=0")
        page.wait_for_selector("#timeline")
        assert day  # the bar clicked was that day's

        # Hand-offs: totals as in the API; a border's complaints; the CSV is offered.
        handoffs = get("/v1/admin/reports/handoffs?since=90d")
        page.goto(f"{base}/admin#/handoff")
        page.wait_for_selector("#chart-sankey canvas")
        assert page.inner_text("#handoffs-total .stat-value") == str(handoffs["hops"])
        crossing = [b for b in handoffs["by_border"] if b["crosses"]]
        assert page.inner_text("#handoffs-crossing .stat-value") == str(sum(b["hops"] for b in crossing))
        worst = handoffs["by_border"][0]
        page.click(f'#borders tr[data-border="{worst["border"]}"] button')
        page.wait_for_selector("#behind-table")
        assert page.locator("#behind-table tbody tr").count() == len(worst["complaints"])
        shoot(page, "handoffs-laptop")

        # SLA: per destination, worst first; clicking its bar lists its breaches, each a link.
        sla = get("/v1/admin/reports/sla")
        page.goto(f"{base}/admin#/sla")
        page.wait_for_selector("#chart-sla canvas")
        assert page.inner_text("#sla-total .stat-value") == str(sla["total"]["breaches"])
        rows = page.locator("#sla-destinations tbody tr")
        assert rows.first.get_attribute("data-destination") == sla["by_destination"][0]["destination"]
        shoot(page, "sla-laptop")
        worst_dest = sla["by_destination"][0]
        last = len(sla["by_destination"]) - 1  # the chart draws the worst at the top: the last bar
        click_chart(page, "#chart-sla", 0, last)
        page.wait_for_selector(f"#sla-list-title:has-text('Breaches of {worst_dest['destination']}')")
        assert page.locator("#sla-breaches tbody tr").count() == worst_dest["breaches"]
        page.click("#sla-breaches a.breach-link >> nth=0")
        page.wait_for_selector("#timeline")

        # A complaint with repeats: they are listed and on its map.
        original = made["original"]
        full = get(f"/v1/admin/complaints/{original}")
        page.goto(f"{base}/admin#/complaints/{original}")
        # The page before was another complaint's: wait for this one's repeats, not for any map.
        page.locator("#duplicates li").nth(2).wait_for()
        page.locator("#complaint-map .repeat-point").nth(2).wait_for()
        assert page.locator("#duplicates li").count() == len(full["duplicates"]) == 3
        assert page.locator("#complaint-map .repeat-point").count() == 3
        assert "WIB" in page.inner_text("#timeline")
        shoot(page, "complaint-laptop")

        # On a phone: the same pages, nothing wider than the screen.
        page.set_viewport_size(PHONE)
        for name, ready in (("overview", "#overview-map path[data-kode='31.71.01']"), ("handoff", "#chart-sankey canvas"),
                            ("sla", "#sla-breaches"), (f"complaints/{original}", "#timeline")):
            page.goto(f"{base}/admin#/{name}")
            page.reload()
            page.wait_for_selector(ready)
            assert fits_the_phone(page), name
            if name == "sla":
                page.locator("#sla-breaches").scroll_into_view_if_needed()
            shoot(page, f"{'complaint' if '/' in name else name.replace('handoff', 'handoffs')}-phone", 1700)
    finally:
        api.stop()
