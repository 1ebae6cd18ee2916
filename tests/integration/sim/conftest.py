"""One pm_sim per module (seed 7, 80 markets, frozen until advanced), its market list and recorded ws frames."""

from tests.support.sim import markets, sim, ws_frames  # noqa: F401  (fixtures, shared with the other layer)
