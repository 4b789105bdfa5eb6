#!/usr/bin/env python3
"""Times commands in alternation: round after round, each command once per
round, in an order that rotates, with the same --prepare before every run.

hyperfine runs each command's runs back to back; on a file system whose cost
depends on what was deleted in the last minutes (ext4 without a journal skips
recently deleted inodes, scanning them on every file it creates), the command
measured later pays for the deletions of the earlier runs. Alternating gives
every command the same history. Writes hyperfine's JSON shape (results with
command, times, mean, median) so bench/lib.sh's `ratio` reads it.

    alternate.py --runs 7 --prepare 'rm -rf t' --export-json out.json 'name=command' ...
"""
import argparse, json, shlex, statistics, subprocess, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--warmup", type=int, default=1)
parser.add_argument("--prepare", default="")
parser.add_argument("--export-json", required=True)
parser.add_argument("commands", nargs="+", help="NAME=COMMAND")
args = parser.parse_args()

commands = []
for item in args.commands:
    name, sep, command = item.partition("=")
    if not sep:
        sys.exit(f"alternate.py: {item!r} is not NAME=COMMAND")
    commands.append((name, command))

def run(command):
    if args.prepare:
        subprocess.run(args.prepare, shell=True, check=True)
    start = time.perf_counter()
    status = subprocess.run(shlex.split(command), stdout=subprocess.DEVNULL).returncode
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"alternate.py: {command!r} exited {status}")
    return elapsed

for _ in range(args.warmup):
    for _, command in commands:
        run(command)
times = {name: [] for name, _ in commands}
for round_number in range(args.runs):
    shift = round_number % len(commands)
    for name, command in commands[shift:] + commands[:shift]:
        times[name].append(run(command))

results = []
for name, command in commands:
    t = times[name]
    results.append({"command": name, "times": t, "mean": statistics.mean(t), "median": statistics.median(t),
                    "min": min(t), "max": max(t)})
    print(f"  {name:>24}: median {statistics.median(t) * 1000:8.1f} ms  (min {min(t) * 1000:.1f}, max {max(t) * 1000:.1f}; {len(t)} runs)")
json.dump({"results": results}, open(args.export_json, "w"), indent=1)
