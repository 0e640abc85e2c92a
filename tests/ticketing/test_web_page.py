"""The planners' page in a real browser (Debian's chromium driven by Playwright): sign in from the
link, filter and sort the list, open an order (evidence chart, history), act on it, comment, and
see a new order appear live from the event stream."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from browser import playwright_sync
from live_server import serving
from workorder_helpers import T0, finding, record

from devices import Plant, Severity
from ticketing import Principal, Role, WorkOrderStore
from ticketing.api import create_app

expect = playwright_sync.expect


def test_a_planner_works_an_order_from_the_page(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        serving(create_app(store)) as url,
    ):
        vibration = tuple((T0 - 60 + i, 4.0 + i / 20) for i in range(60))
        forecast = replace(
            finding("P-101", severity=Severity.ALARM, evidence={"vibration": vibration}),
            time_to_limit=3 * 3600,
            time_to_limit_range=(1.5 * 3600, 6 * 3600),
        )
        urgent = record(store, forecast, demo_plant.equipment["P-101"]).order
        medium = record(store, finding("P-103", ts=T0 + 1), demo_plant.equipment["P-103"]).order
        token = store.access.create_token("pat", Role.PLANNER).secret

        page.goto(f"{url}/#token={token}")
        rows = page.locator("#orders tbody tr")
        expect(rows).to_have_count(2)
        assert "token" not in page.url  # the secret left the address bar
        expect(page.locator("#who")).to_contain_text("pat · planner")
        expect(page.locator("#live")).to_have_text("● live")
        expect(page.locator("#clock")).to_be_hidden()  # the wall clock needs no label
        page.select_option("select[name=priority]", "urgent")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(urgent.number)
        page.select_option("select[name=priority]", "")
        page.select_option("select[name=sort]", "priority")
        expect(rows.first).to_contain_text(urgent.number)
        page.fill("input[name=q]", "P-103")
        expect(rows).to_have_count(1)
        page.fill("input[name=q]", "")
        expect(rows).to_have_count(2)

        rows.filter(has_text=medium.number).click()
        expect(page.locator("#detail-view h1")).to_contain_text(medium.number)
        page.go_back()
        rows.filter(has_text=urgent.number).click()
        detail = page.locator("#detail-view")
        expect(detail.locator("#evidence svg polyline")).to_have_count(1)
        expect(detail.locator("#evidence figcaption")).to_have_text("vibration (mm/s)")
        expect(detail.locator("#evidence .limit.alarm")).to_have_count(1)
        expect(detail.locator("#evidence .limit.warning")).to_have_count(1)
        expect(detail.locator("#evidence .moment")).to_have_count(1)
        expect(detail.locator("#evidence .band")).to_have_count(1)
        ttl = detail.locator("#time-to-limit")
        expect(ttl).to_contain_text("3.0 h from the finding (between 1.5 h and 6.0 h)")
        expect(ttl).to_contain_text("Due")
        expect(detail.locator("h2", has_text="Recommended checks")).to_have_count(1)
        expect(detail.locator("#history")).to_contain_text("Forewarn opened the order")
        detail.get_by_role("button", name="Acknowledge").click()
        expect(detail.locator("#status")).to_have_text("acknowledged")
        expect(detail.locator("#history")).to_contain_text("Pat acknowledged")
        page.screenshot(path=str(artefacts / "evidence.png"), full_page=True)
        detail.get_by_role("button", name="Assign…").click()
        groups = page.locator("dialog optgroup")
        expect(groups.first).to_have_attribute("label", "Team mechanical")
        expect(groups.nth(1)).to_have_attribute("label", re.compile("assigning moves the order"))
        first = groups.first.locator("option").first
        expect(first).to_contain_text("on shift")
        expect(first).to_contain_text("open")
        chosen = first.get_attribute("value")
        page.locator("dialog select[name=assignee]").select_option(chosen)
        page.locator("dialog").get_by_role("button", name="Assign").click()
        expect(detail.locator("#history")).to_contain_text("Pat assigned the order to")
        detail.locator("#comment-form input").fill("Spare bearing on the shelf")
        detail.locator("#comment-form button").click()
        expect(detail.locator("#comments")).to_contain_text("Spare bearing on the shelf")
        expect(detail.get_by_role("button", name="Put on hold")).to_have_count(1)
        detail.get_by_role("button", name="Close…").click()
        dialog = page.locator("dialog")
        dialog.locator("select[name=outcome]").select_option("confirmed")
        dialog.locator("input[name=cause]").fill("lubrication starved")
        dialog.get_by_role("button", name="Close").click()
        expect(detail.locator("#status")).to_have_text("closed")
        page.screenshot(path=str(artefacts / "detail.png"), full_page=True)
        assert store.orders.get(urgent.number).found_cause == "lubrication starved"

        page.locator("a", has_text="all orders").click()
        page.select_option("select[name=active]", "true")
        expect(rows).to_have_count(1)
        fresh = record(store, finding("P-204", "flow", ts=T0 + 2), demo_plant.equipment["P-204"])
        expect(rows.filter(has_text=fresh.order.number)).to_have_count(1)  # live, no reload
        expect(rows).to_have_count(2)
        page.screenshot(path=str(artefacts / "list.png"), full_page=True)


def test_a_technician_sees_their_team_and_no_planner_actions(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        serving(create_app(store, clock_note="simulated time ×120")) as url,
    ):
        mine = record(store, finding("P-103"), demo_plant.equipment["P-103"]).order
        record(store, finding("P-204", "flow", ts=T0 + 1), demo_plant.equipment["P-204"])
        token = store.access.create_token("bruno", Role.TECHNICIAN).secret
        page.goto(f"{url}/#token={token}")
        rows = page.locator("#orders tbody tr")
        expect(rows).to_have_count(1)
        expect(page.locator("#clock")).to_have_text("⏱ simulated time ×120")
        rows.first.click()
        detail = page.locator("#detail-view")
        expect(detail.locator("h1")).to_contain_text(mine.number)
        expect(detail.get_by_role("button", name="Start")).to_have_count(1)
        expect(detail.get_by_role("button", name="Close…")).to_have_count(0)
        expect(detail.get_by_role("button", name="Assign…")).to_have_count(0)
        page.locator("#sign-out").click()
        expect(page.locator("#sign-in")).to_be_visible()
        page.fill("#token-input", "fwt_not-a-real-token")
        page.locator("#token-form button").click()
        expect(page.locator("#sign-in-error")).to_contain_text("sign in again")
        page.screenshot(path=str(artefacts / "technician.png"), full_page=True)


def test_the_api_docs_render_without_network(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    outside: list[str] = []

    def local_only(route: playwright_sync.Route) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        serving(create_app(store)) as url,
    ):
        page.route("**/*", local_only)
        page.goto(f"{url}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("forewarn work orders")
        expect(
            page.locator(".opblock-summary-path", has_text="/api/v1/work-orders").first
        ).to_be_visible()
        page.screenshot(path=str(artefacts / "docs.png"))
    assert outside == []


def test_the_equipment_tree_shows_each_machine_s_state(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        serving(create_app(store)) as url,
    ):
        record(store, finding("P-101", severity=Severity.ALARM), demo_plant.equipment["P-101"])
        now = store.now()
        store.planning.add_window(
            "demo/treatment/line-2",
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            reason="filter change",
            by=Principal("pat", Role.PLANNER),
        )
        token = store.access.create_token("pat", Role.PLANNER).secret
        page.goto(f"{url}/#token={token}")
        expect(page.locator("#who")).to_contain_text("pat · planner")
        page.locator("a", has_text="Equipment").click()
        tree = page.locator("#equipment-tree")
        expect(tree.locator("[data-equipment]")).to_have_count(len(demo_plant))
        expect(tree.locator("[data-equipment=P-101] .state")).to_have_text("open order (urgent)")
        expect(tree.locator("[data-equipment=P-201] .state")).to_have_text(
            "in a maintenance window"
        )
        expect(tree.locator("[data-equipment=P-103] .state")).to_have_text("normal")
        page.screenshot(path=str(artefacts / "equipment.png"), full_page=True)
        tree.locator("a", has_text="P-101").click()
        expect(page.locator("#machine-orders li")).to_have_count(1)
