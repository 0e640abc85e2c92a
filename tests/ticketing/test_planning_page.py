"""Maintenance windows and shelved alarms on the page, in a real browser (Debian's chromium): a
planner schedules a window on a line and ends it, shelves a machine's alarms and unshelves
them; the equipment tree and the store follow; a technician reads them without the forms."""

from __future__ import annotations

from pathlib import Path

from browser import playwright_sync
from live_server import serving

from devices import Plant
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

expect = playwright_sync.expect


def test_a_planner_schedules_and_ends_a_window_and_shelves_an_alarm(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        serving(create_app(store)) as url,
    ):
        token = store.access.create_token("pat", Role.PLANNER).secret
        page.goto(f"{url}/#token={token}")
        expect(page.locator("#who")).to_contain_text("pat · planner")
        page.locator("a", has_text="Windows & shelves").click()
        view = page.locator("#planning-view")
        expect(view.locator("#windows")).to_have_text("None.")
        form = view.locator("#window-form")
        form.locator("select[name=target]").select_option("demo/treatment/line-2")
        form.locator("input[name=reason]").fill("filter change")
        form.get_by_role("button", name="Schedule").click()
        row = view.locator("#windows tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator(".state-cell")).to_have_text("active now")
        expect(row).to_contain_text("filter change")
        (window,) = store.planning.windows()
        assert (window.target, window.created_by, window.reason) == (
            "demo/treatment/line-2",
            "pat",
            "filter change",
        )
        assert (window.ends_at - window.starts_at).total_seconds() == 2 * 3600

        page.locator("a", has_text="Equipment").click()
        tree = page.locator("#equipment-tree")
        expect(tree.locator("[data-equipment=P-201] .state")).to_have_text(
            "in a maintenance window"
        )
        expect(tree.locator("[data-equipment=P-101] .state")).to_have_text("normal")

        page.locator("a", has_text="Windows & shelves").click()
        shelf_form = view.locator("#shelf-form")
        shelf_form.locator("select[name=equipment_id]").select_option("P-103")
        shelf_form.locator("input[name=failure_mode]").fill("VIB")
        shelf_form.locator("input[name=reason]").fill("sensor swap")
        shelf_form.get_by_role("button", name="Shelve").click()
        shelf = view.locator("#shelves tbody tr")
        expect(shelf).to_have_count(1)
        expect(shelf).to_contain_text("VIB")
        expect(shelf).to_contain_text("sensor swap")
        (shelved,) = store.planning.shelves()
        assert (shelved.equipment_id, shelved.failure_mode_code) == ("P-103", "VIB")
        page.screenshot(path=str(artefacts / "windows-and-shelves.png"), full_page=True)

        technician = store.access.create_token("bruno", Role.TECHNICIAN).secret
        page.locator("#sign-out").click()
        page.goto(f"{url}/#token={technician}")
        expect(page.locator("#who")).to_contain_text("bruno · technician")
        page.goto(f"{url}/#/planning")
        expect(view.locator("#windows tbody tr")).to_have_count(1)
        expect(view.locator("#shelves tbody tr")).to_have_count(1)
        expect(view.locator("form")).to_have_count(0)
        expect(view.locator("button[data-end]")).to_have_count(0)

        page.locator("#sign-out").click()
        page.goto(f"{url}/#token={token}")
        expect(page.locator("#who")).to_contain_text("pat · planner")
        page.goto(f"{url}/#/planning")
        view.locator("#windows button[data-end]").click()
        expect(view.locator("#windows")).to_have_text("None.")
        view.locator("#shelves button[data-end]").click()
        expect(view.locator("#shelves")).to_have_text("None.")
        assert store.planning.windows() == []
        assert store.planning.shelves() == []
        (ended,) = store.planning.windows(include_cancelled=True)
        assert ended.cancelled_at is not None
