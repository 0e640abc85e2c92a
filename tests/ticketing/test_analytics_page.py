"""The analytics view, the equipment tree and a machine's page in a real browser (Debian's
chromium), on two weeks of seeded orders (`seed_two_weeks`) and one opened and closed on top:
the numbers a planner reads come from those orders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from browser import playwright_sync
from live_server import serving
from workorder_helpers import Clock, finding, record, seed_two_weeks

from devices import Plant, Severity
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

expect = playwright_sync.expect
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LINE_1 = "demo/treatment/line-1"
LINE_2 = "demo/treatment/line-2"


def test_a_planner_reads_the_analytics_of_two_seeded_weeks(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    clock = Clock(MONDAY)
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant, clock=clock) as store,
        serving(create_app(store)) as url,
    ):
        seed_two_weeks(store, demo_plant, clock)
        token = store.access.create_token("pat", Role.PLANNER).secret
        page.goto(f"{url}/#token={token}")
        expect(page.locator("#who")).to_contain_text("pat · planner")
        page.locator("a", has_text="Analytics").click()
        view = page.locator("#analytics-view")
        expect(view.locator("#kpi-opened b")).to_have_text("5 · 2")
        expect(view.locator("#kpi-mtta b")).to_have_text("20 min")  # (10 + 30 + 20) / 3
        expect(view.locator("#kpi-mtta small")).to_have_text("3 acknowledged")
        expect(view.locator("#kpi-mttr b")).to_have_text("1.5 h")  # (2 h + 1 h) / 2
        expect(view.locator("#kpi-mttr small")).to_have_text("2 closed, repair 1.0 h")
        expect(view.locator("#kpi-backlog b")).to_have_text("2")
        expect(view.locator("#kpi-lead-time b")).to_have_text("4.0 h")  # (6 h + 2 h) / 2
        expect(view.locator("#kpi-lead-time small")).to_have_text(
            "2 of 5 predictive orders forecast; least 2.0 h"
        )
        expect(view.locator("#kpi-false-alarms b")).to_have_text("50 %")
        expect(view.locator("#kpi-false-alarms small")).to_have_text("1 of 2 judged at closing")

        weeks = view.locator("#throughput tbody tr")
        expect(weeks).to_have_count(8)
        week0 = view.locator("#throughput tr[data-week='2026-03-02'] td")
        expect(week0.nth(1)).to_have_text("2")
        expect(week0.nth(2)).to_have_text("2")
        week1 = view.locator("#throughput tr[data-week='2026-03-09'] td")
        expect(week1.nth(1)).to_have_text("3")
        expect(week1.nth(2)).to_have_text("0")
        expect(view.locator("#throughput svg rect.b-opened")).to_have_count(8)
        # weeks without orders draw no bar: MTTA and MTTR in week 0, MTTA only in week 1
        bars = view.locator("#mean-times svg rect")
        expect(bars).to_have_count(3)
        titles = bars.locator("title")
        expect(titles.nth(0)).to_have_text(re.compile(r"^to acknowledge, (Mar 2|2 Mar): 20$"))
        expect(titles.nth(1)).to_have_text(re.compile(r"^to resolve, (Mar 2|2 Mar): 90$"))
        expect(titles.nth(2)).to_have_text(re.compile(r"^to acknowledge, (Mar 9|9 Mar): 20$"))

        heat = view.locator("#backlog-by-team")
        expect(heat.locator("tr[data-team=mechanical] td[data-priority=medium]")).to_have_text("1")
        expect(heat.locator("tr[data-team=mechanical] td[data-priority=urgent]")).to_have_text("0")
        expect(
            heat.locator("tr[data-team=rotating-equipment] td[data-priority=urgent]")
        ).to_have_text("1")
        # VIB: A, B, D (E was cancelled); PDE: C
        modes = view.locator("#failure-pareto-list li")
        expect(modes).to_have_count(2)
        expect(modes.nth(0)).to_have_attribute("data-key", "VIB")
        expect(view.locator("#failure-pareto-list li[data-key=VIB] .n")).to_have_text("3")
        expect(view.locator("#failure-pareto-list li[data-key=VIB] .cum")).to_have_text("75 %")
        expect(view.locator("#failure-pareto-list li[data-key=PDE] .cum")).to_have_text("100 %")
        expect(view.locator("#failure-pareto svg rect")).to_have_count(2)
        expect(view.locator("#failure-pareto svg polyline.cumulative")).to_have_count(1)
        expect(view.locator("#cause-pareto")).to_contain_text(
            "2 closed orders, none with a cause given."
        )
        expect(view.locator("#kpi-repeats b")).to_have_text("0")
        expect(view.locator("#kpi-first-time-fix b")).to_have_text("—")
        expect(view.locator("#kpi-first-time-fix small")).to_have_text(
            "0 of 0 closed orders; 2 still within 30 days"
        )
        line_1 = view.locator(f"#line-heat tr[data-line='{LINE_1}']")
        line_2 = view.locator(f"#line-heat tr[data-line='{LINE_2}']")
        expect(line_1.locator("td[data-week]")).to_have_count(8)
        expect(line_1.locator("td[data-week='2026-03-02']")).to_have_text("2")  # A, B
        expect(line_1.locator("td[data-week='2026-03-09']")).to_have_text("1")  # C (E cancelled)
        expect(line_2.locator("td[data-week='2026-03-09']")).to_have_text("1")  # D
        expect(line_2.locator("td[data-week='2026-03-02']")).to_have_text("0")
        expect(view.locator("#precision tr[data-detector=anomaly] td").nth(3)).to_have_text("0 %")
        expect(view.locator("#precision tr[data-detector=ewma_drift] td").nth(3)).to_have_text(
            "100 %"
        )
        expect(view.locator("#backlog svg polyline")).to_have_count(1)
        page.screenshot(path=str(artefacts / "analytics.png"), full_page=True)

        # F: P-101's vibration again, 7 days after A was closed: a repeat, on the tree at once
        again = finding("P-101", severity=Severity.ALARM, ts=clock.now.timestamp())
        f = record(store, again, demo_plant.equipment["P-101"]).order.number
        clock.advance(60)  # the page counts orders created before its now
        page.locator("a", has_text="Equipment").click()
        tree = page.locator("#equipment-tree")
        expect(tree.locator("[data-equipment=P-101] .state")).to_have_text("open order (urgent)")
        expect(tree.locator("[data-equipment=P-201] .state")).to_have_text("open order (urgent)")
        page.screenshot(path=str(artefacts / "equipment-order-open.png"), full_page=True)
        page.goto(f"{url}/#/orders/{f}")
        detail = page.locator("#detail-view")
        detail.get_by_role("button", name="Close…").click()
        dialog = page.locator("dialog")
        dialog.locator("select[name=outcome]").select_option("confirmed")
        dialog.locator("input[name=cause]").fill("Bearing worn")
        dialog.get_by_role("button", name="Close").click()
        expect(detail.locator("#status")).to_have_text("closed")
        page.locator("a", has_text="Equipment").click()
        # closed, but its finding still holds: no order covers it now
        expect(tree.locator("[data-equipment=P-101] .state")).to_have_text("finding (alarm)")
        cleared = finding("P-101", severity=Severity.ALARM, ts=clock.now.timestamp(), active=False)
        store.orders.record(cleared, demo_plant.equipment["P-101"])
        page.reload()
        expect(tree.locator("[data-equipment=P-101] .state")).to_have_text("normal")
        page.screenshot(path=str(artefacts / "equipment-order-closed.png"), full_page=True)

        page.locator("a", has_text="Analytics").click()
        expect(view.locator("#kpi-repeats b")).to_have_text("1")
        expect(view.locator("#kpi-repeats small")).to_have_text(
            "20 % of 5 orders opened again within 30 days of a closing"
        )
        # of A, B and F closed, only A is judged: F repeated it
        expect(view.locator("#kpi-first-time-fix b")).to_have_text("0 %")
        expect(view.locator("#kpi-first-time-fix small")).to_have_text(
            "0 of 1 closed order; 2 still within 30 days"
        )
        causes = view.locator("#cause-pareto-list li")
        expect(causes).to_have_count(1)
        expect(causes.first).to_have_attribute("data-key", "bearing worn")
        expect(causes.first.locator(".cum")).to_have_text("100 %")
        expect(view.locator("#cause-pareto")).to_contain_text(
            "of 1 order; 2 closed with no cause given"
        )
        expect(view.locator("#failure-pareto-list li[data-key=VIB] .n")).to_have_text("4")
        expect(line_1.locator("td[data-week='2026-03-09']")).to_have_text("2")  # C, F
        page.screenshot(path=str(artefacts / "analytics-after-repeat.png"), full_page=True)

        technician = store.access.create_token("bruno", Role.TECHNICIAN).secret
        page.locator("#sign-out").click()
        page.goto(f"{url}/#token={technician}")
        expect(page.locator("#who")).to_contain_text("bruno · technician")
        expect(page.locator("#nav-analytics")).to_be_hidden()
        page.goto(f"{url}/#/analytics")
        expect(view).to_contain_text("Analytics are for planners.")
        # a technician's tree: the mechanical team's line-1 pumps, with only their orders
        page.goto(f"{url}/#/equipment")
        expect(tree.locator("[data-equipment]")).to_have_count(5)
        expect(tree.locator("[data-equipment=P-201]")).to_have_count(0)
        expect(tree.locator("[data-equipment=P-104] .state")).to_have_text("open order (medium)")
        page.screenshot(path=str(artefacts / "equipment-technician.png"), full_page=True)


def test_a_machine_page_shows_its_past_and_open_orders_and_its_findings(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    clock = Clock(MONDAY)
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant, clock=clock) as store,
        serving(create_app(store)) as url,
    ):
        numbers = seed_two_weeks(store, demo_plant, clock)
        token = store.access.create_token("pat", Role.PLANNER).secret
        page.goto(f"{url}/#token={token}")
        expect(page.locator("#who")).to_contain_text("pat · planner")
        page.locator("a", has_text="Equipment").click()
        page.locator("#equipment-tree a", has_text="P-103").click()
        view = page.locator("#machine-view")
        expect(view.locator("h1")).to_contain_text("P-103")
        expect(view.locator("#machine-orders")).to_have_text("None.")
        past = view.locator("#machine-past tbody tr")
        expect(past).to_have_count(1)
        expect(past.first).to_have_attribute("data-number", numbers["B"])
        expect(past.first.locator("td").nth(3)).to_have_text("false alarm")
        expect(view.locator("#machine-alarms li")).to_have_count(1)
        expect(view.locator("#machine-alarms li").first).to_contain_text("anomaly")
        expect(view.locator("#health-timeline rect")).to_have_count(1)
        expect(view.locator("#machine-signals tbody tr").first).to_be_visible()

        page.goto(f"{url}/#/machine/P-201")
        expect(view.locator("h1")).to_contain_text("P-201")
        expect(view.locator("#machine-orders li")).to_have_count(1)
        expect(view.locator("#machine-orders li").first).to_contain_text(numbers["D"])
        expect(view.locator("#machine-orders li").first).to_contain_text("acknowledged")
        expect(view.locator("#machine-past")).to_have_text("None.")
        expect(view.locator("#machine-alarms li").first).to_contain_text(numbers["D"])
        recent = view.locator("#machine-recent")
        expect(recent).to_contain_text(f"From the finding of {numbers['D']}")
        expect(recent.locator(".chart[data-signal=vibration] polyline")).to_have_count(1)
        page.screenshot(path=str(artefacts / "machine-P-201.png"), full_page=True)

        page.goto(f"{url}/#/machine/P-101")
        expect(view.locator("h1")).to_contain_text("P-101")
        expect(view.locator("#machine-past tbody tr").first.locator("td").nth(3)).to_have_text(
            "confirmed"
        )
        expect(view.locator("#machine-past tbody tr").first).to_have_attribute(
            "data-number", numbers["A"]
        )
        page.screenshot(path=str(artefacts / "machine-P-101.png"), full_page=True)
