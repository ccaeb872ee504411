"""Where the profiles' config file is, and whether it names a profile: the standard library and platformdirs only.

`cutover open NAME` asks before the app takes over the terminal, so a typo is said on the command line, without
loading pydantic (core.config reads and validates the file once the app's first frame is drawn).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from platformdirs import user_config_dir

APP = "cutover"
CONFIG_FILE_ENV = "CUTOVER_CONFIG_FILE"


def config_path() -> Path:
    """CUTOVER_CONFIG_FILE, else config.toml in the user config dir (XDG_CONFIG_HOME on Linux)."""
    override = os.environ.get(CONFIG_FILE_ENV)
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir(APP)) / "config.toml"


def names_profile(name: str) -> bool:
    """Whether the config file has a [profiles.NAME] table. False also when the file is missing, unreadable or
    not TOML, and for a profile set only through CUTOVER_PROFILES__… variables: core.config's full reading then
    finds it or says what is wrong."""
    try:
        with config_path().open("rb") as f:
            profiles = tomllib.load(f).get("profiles")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(profiles, dict) and isinstance(profiles.get(name), dict)
