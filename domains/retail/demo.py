"""The retail team's setup hook and demo database.

``switchboard run`` needs a retail database. ``SWITCHBOARD_RETAIL_DB`` names
one; without it, a deterministic demo database is generated once under
``.demo/`` in the checkout, so a new user's first run works offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from domains.retail.generate import generate_dataset
from domains.retail.loader import load_directory
from switchboard.errors import ConfigError

DB_VARIABLE = "SWITCHBOARD_RETAIL_DB"
DEMO_DIR = Path(__file__).resolve().parents[2] / ".demo"
DEMO_DB = DEMO_DIR / "retail.sqlite"


def build_demo_db(db_path: Path = DEMO_DB, *, seed: int = 7) -> Path:
    """Generate the demo data and load it into ``db_path``, replacing it."""
    data_dir = generate_dataset(db_path.parent / "data", seed=seed)
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
    if not DEMO_DB.is_file():
        build_demo_db()
    return {DB_VARIABLE: str(DEMO_DB)}
