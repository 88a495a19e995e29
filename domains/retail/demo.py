"""The retail team's setup hook and demo database.

``switchboard run`` needs a retail database. ``SWITCHBOARD_RETAIL_DB`` names
one; without it, a deterministic demo database is generated once in the
data directory (``SWITCHBOARD_HOME``, default ``./.switchboard``), so a new
user's first run works offline and nothing is written into the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from switchboard.domains.retail.generate import generate_dataset
from switchboard.domains.retail.loader import load_directory
from switchboard.errors import ConfigError
from switchboard.settings import data_home

DB_VARIABLE = "SWITCHBOARD_RETAIL_DB"


def demo_db_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the demo database lives: ``retail.sqlite`` in the data directory."""
    return data_home(env) / "retail.sqlite"


def build_demo_db(db_path: Path | None = None, *, seed: int = 7) -> Path:
    """Generate the demo data and load it into ``db_path``, replacing it."""
    db_path = Path(db_path) if db_path else demo_db_path()
    data_dir = generate_dataset(db_path.parent / "retail-data", seed=seed)
    load_directory(data_dir, db_path)
    return db_path


def prepare(env: Mapping[str, str]) -> dict[str, str]:
    """Setup hook named in ``agents/teams/retail.yaml``.

    Returns:
        ``{"SWITCHBOARD_RETAIL_DB": path}`` for the MCP server connection.

    Raises:
        ConfigError: ``SWITCHBOARD_RETAIL_DB`` names a file that does not exist.
    """
    configured = env.get(DB_VARIABLE)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{DB_VARIABLE}={configured} does not exist; create it with "
                "`switchboard retail load DIR --db PATH`, or unset it to use the demo database"
            )
        return {DB_VARIABLE: str(path.resolve())}
    demo = demo_db_path(env)
    if not demo.is_file():
        build_demo_db(demo)
    return {DB_VARIABLE: str(demo)}
