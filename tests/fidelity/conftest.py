"""The fidelity suite's shared fixture: a seeded emulator, served by the
built `cutover-emulator` binary on a free loopback port, for the vendors'
own client libraries and Singer taps to talk to.

Run by `tests/fidelity/run.sh` (which `cargo xtask ci` calls) after
`cargo build --workspace`; the binary is `target/debug/cutover-emulator`.
"""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("CUTOVER_EMULATOR", ROOT / "target" / "debug" / "cutover-emulator"))


class Emulator:
    """A running emulator: where it is, its key, and how to stop it."""

    def __init__(self, platform: str, records: int, seed: int, extra: list[str]):
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `cargo build --workspace` first")
        self.process = subprocess.Popen(
            [str(BINARY), platform, "--records", str(records), "--seed", str(seed), *extra],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.values = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            key, _, value = line.strip().partition("=")
            self.values[key] = value
            if key == "faults":
                break
        if "base_url" not in self.values:
            self.stop()
            raise RuntimeError(f"cutover-emulator {platform} did not start")
        self.platform = platform
        self.records = records
        self.seed = seed
        self.base_url = self.values["base_url"]
        self.api_root = self.values["api_root"]
        self.api_key = self.values["api_key"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def start_emulator():
    """Starts emulators for a test (`start_emulator("mailchimp", records=200)`)
    and stops them after it."""
    started = []

    def start(platform: str, records: int = 200, seed: int = 7, extra: list[str] | None = None) -> Emulator:
        emulator = Emulator(platform, records, seed, extra or ["--invalid-emails", "0"])
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
