"""The thread settings for shared cores: libgomp's spin count, and the governor that drops
generation to one thread while full width is slowed by another process."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.threadpool import SPIN_COUNT, SPIN_ENV, ThreadGovernor, configure_openmp, cores_busy


def idle(threads: int) -> bool:
    return False


def test_the_spin_count_is_set_unless_the_user_chose_one() -> None:
    environ: dict[str, str] = {}
    configure_openmp(environ)
    assert environ == {SPIN_ENV: SPIN_COUNT}
    mine = {SPIN_ENV: "5"}
    configure_openmp(mine)
    assert mine == {SPIN_ENV: "5"}
    passive = {"OMP_WAIT_POLICY": "passive"}
    configure_openmp(passive)
    assert passive == {"OMP_WAIT_POLICY": "passive"}


def feed(governor: ThreadGovernor, times: list[float]) -> list[int]:
    return [governor.observe(t) for t in times]


def simulate(governor: ThreadGovernor, full: float, single: float, tokens: int) -> list[int]:
    """Generate `tokens` tokens on a machine where a token takes `full` seconds at full width and
    `single` on one thread; the thread count used for each token."""
    used = []
    for _ in range(tokens):
        threads = governor.current
        used.append(threads)
        governor.observe(full if threads > 1 else single)
    return used


def test_alone_full_width_stays_through_noise() -> None:
    governor = ThreadGovernor(2, busy=idle)
    noisy = [0.010, 0.011, 0.012, 0.010, 0.014, 0.010, 0.013, 0.011] * 20
    assert set(feed(governor, noisy)) == {2}


def test_shared_cores_move_generation_to_one_thread_and_back() -> None:
    governor = ThreadGovernor(2, window=4, probe_every=16, max_probe_every=64, busy=idle)
    assert set(simulate(governor, full=0.010, single=0.018, tokens=100)) == {2}  # alone
    # another process takes the cores: full width is 5x slower, one thread 1.1x
    contended = simulate(governor, full=0.050, single=0.020, tokens=320)
    assert contended[:8].count(1) >= 4  # noticed within a window or two
    assert contended.count(1) >= 0.9 * len(contended)  # failed probes come ever more rarely
    # the other process ends: full width wins the next probe and keeps winning
    after = simulate(governor, full=0.010, single=0.018, tokens=200)
    assert after.index(2) <= 64 and set(after[70:]) == {2}


def test_full_width_wins_back_quickly_when_it_is_faster_beside_another_process() -> None:
    governor = ThreadGovernor(2, window=4, probe_every=16, busy=idle)
    simulate(governor, full=0.006, single=0.011, tokens=20)
    # beside one competitor full width is slower than alone but still faster than one thread
    used = simulate(governor, full=0.010, single=0.025, tokens=100)
    assert used[24:].count(2) == len(used[24:])


def test_full_width_that_is_slowed_but_still_faster_stays() -> None:
    governor = ThreadGovernor(2, window=4, probe_every=16, busy=idle)
    simulate(governor, full=0.010, single=0.018, tokens=20)
    used = simulate(governor, full=0.016, single=0.030, tokens=200)
    assert used[40:].count(2) >= 0.8 * len(used[40:])


def test_one_thread_configured_is_left_alone() -> None:
    governor = ThreadGovernor(1, busy=lambda threads: True)
    assert set(feed(governor, [0.010, 1.0, 2.0, 0.5] * 10)) == {1}


def test_one_thread_from_the_start_while_other_processes_run_full_width_when_they_stop() -> None:
    others = {"running": True}
    governor = ThreadGovernor(2, probe_every=16, busy=lambda threads: others["running"])
    assert governor.start() == 1  # no slow tokens needed to find out
    # while the others run, full width is never tried: a probe would cost most then
    contended = simulate(governor, full=0.050, single=0.008, tokens=200)
    assert set(contended) == {1}
    others["running"] = False
    after = simulate(governor, full=0.006, single=0.008, tokens=100)
    assert after.index(2) <= 16 and set(after[20:]) == {2}
    assert governor.start() == 2  # and the next generation starts at full width


def test_the_default_detection_starts_full_width_after_a_slow_spell_ends() -> None:
    governor = ThreadGovernor(2, window=2, busy=idle)
    simulate(governor, full=0.006, single=0.008, tokens=20)
    slowed = simulate(governor, full=0.050, single=0.010, tokens=40)
    assert slowed[:3].count(1) >= 1  # two slow tokens are enough to notice
    assert slowed.count(1) >= 0.8 * len(slowed)


def _proc(root: Path, running: int, states: str) -> Path:
    root.mkdir()
    (root / "loadavg").write_text(f"1.00 0.80 0.50 {running}/321 4242\n")
    for n, state in enumerate(states):
        task = root / "self" / "task" / str(100 + n)
        task.mkdir(parents=True)
        task.joinpath("stat").write_text(f"{100 + n} (py thr (x)) {state} 1 2 3\n")
    return root


def test_busy_cores_are_runnable_threads_of_other_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    # three runnable, two of them ours (the caller and a spinning worker): one other process
    assert cores_busy(2, _proc(tmp_path / "a", running=3, states="RRS")) is True
    # only ours are running: nobody else wants the cores
    assert cores_busy(2, _proc(tmp_path / "b", running=2, states="RSR")) is False
    # one thread of ours leaves the other core free for someone else
    assert cores_busy(1, _proc(tmp_path / "c", running=2, states="RS")) is False
    assert cores_busy(2, tmp_path / "missing") is False  # no /proc: never busy
