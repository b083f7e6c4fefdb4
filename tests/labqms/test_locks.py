"""requirements.lock (production image) and requirements-dev.lock (plus test tools)
must pin every shared package to the same version, or CI tests what nobody runs."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, flags=re.MULTILINE))


def test_production_pins_equal_the_development_pins():
    prod, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert "django" in prod and "pytest" not in prod
    assert {name: dev.get(name) for name in prod} == prod
