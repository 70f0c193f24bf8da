"""Accessibility checks in real pages: axe-core (vendored in tests/vendor/) finds no violation."""

from typing import Any

from playwright.sync_api import Page

from .support import ROOT

__all__ = ["assert_accessible"]

AXE = (ROOT / "tests" / "vendor" / "axe.min.js").read_text()
# WCAG 2.2 A and AA, plus axe's best practices (landmarks, headings, one main…)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (each with the nodes at fault)."""
    # evaluated through the DevTools protocol, so the page's CSP (script-src 'self') allows it
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE)
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: { type: "tag", values: tags }, resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => ({
                    target: n.target, summary: n.failureSummary,
                })),
            }));
        }""",
        TAGS,
    )
    return found


def assert_accessible(page: Page, what: str) -> None:
    """Fail with axe-core's findings if the page has any accessibility violation."""
    found = violations(page)
    assert found == [], f"axe-core on {what}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in found
    )
