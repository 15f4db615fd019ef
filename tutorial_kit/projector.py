"""The projector page: the explorer of notebook 07 alone, scaled to the screen.

``notebooks/projector/explorer.ipynb`` calls :func:`show`, and TEACHING.md
gives the one command that serves it with Voilà::

    voila notebooks/projector/explorer.ipynb --preheat_kernel=True

The page holds nothing but the explorer: no prose, no exercises, no links.
Its text and controls grow with the window's height (about 24 px on a
1080-pixel projector, so that the back row can read them), and the mosaic
takes the height that is left: 84% of a 1920x1080 window (measured), and the
whole explorer still fits a 1366x768 laptop without scrolling.
"""

from __future__ import annotations

from tutorial_kit.explorer import build_explorer
from tutorial_kit.notebook import covers_dir
from tutorial_kit.versions import check_versions

# The mosaic's JPEG is drawn this large (cells as big as fit in it): the page
# shrinks it to the window, so it stays sharp on a 1080-pixel projector.
MOSAIC_PIXELS = 1000
UMATRIX_DPI = 220  # the U-matrix figure 550 px wide, its labels 30 px tall before scaling

# Sizes follow the window's height (vh): 2.2vh is 24 px at 1080 and 17 px at 768.
# The explorer's own style block (explorer_view.STYLE) sets 14 px; these rules are more
# specific and win. The mosaic gets the height left under the status line
# (three lines tall), the U-matrix and the quality figures the width left. The
# first rules take away the page's margins and the output prompts (Voilà's page
# is the notebook's, without its code).
STYLE = """<style>
body, .jp-Notebook, #rendered_cells { padding: 0 !important; margin: 0 !important; }
.jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea-child, .jp-OutputArea-output {
  padding: 0 !important; margin: 0 !important; max-width: none !important; }
.jp-OutputPrompt, .jp-InputPrompt { display: none !important; }
.som-explorer.som-explorer-projector { --jp-widgets-font-size: max(14px, 2.2vh);
  --jp-widgets-inline-height: max(28px, 3.6vh);
  font-size: max(14px, 2.2vh); width: 100%; box-sizing: border-box; padding: 1vh 1vw 0 1vw; }
.som-explorer-projector .widget-label, .som-explorer-projector .widget-readout,
.som-explorer-projector select, .som-explorer-projector input,
.som-explorer-projector button, .som-explorer-projector .som-explorer-status,
.som-explorer-projector table { font-size: max(14px, 2.2vh) !important; }
.som-explorer-projector .som-explorer-controls { width: 27vw !important;
  min-width: 300px !important; max-width: 30em; }
.som-explorer-projector .som-explorer-status { min-height: 3.9em !important; }
.som-explorer.som-explorer-projector .som-explorer-mosaic img { max-width: 100%;
  max-height: calc(100vh - 3.9 * max(14px, 2.2vh) * 1.4 - 4vh); }
.som-explorer-projector .som-explorer-side { flex: 1 1 18em !important;
  width: auto !important; max-width: 34em; }
.som-explorer.som-explorer-projector .som-explorer-umatrix img { width: auto; height: auto;
  max-width: 100%; max-height: 48vh; }
</style>"""


def show(covers=None):
    """Check the libraries, then show the explorer alone, for a projector.

    Parameters
    ----------
    covers : str or Path, optional
        Folder of covers; by default ``$COVERS_DIR`` or the bundled posters,
        as in the notebooks.

    Returns
    -------
    tutorial_kit.explorer.Explorer
        The explorer shown (only its live widget: a page without widgets has
        nothing to project).
    """
    from IPython.display import HTML, display

    check_versions()
    explorer = build_explorer(covers_dir() if covers is None else covers,
                              display_width=MOSAIC_PIXELS, display_height=MOSAIC_PIXELS,
                              umatrix_dpi=UMATRIX_DPI)
    explorer.widget.add_class("som-explorer-projector")
    display(HTML(STYLE), explorer.widget)
    return explorer
