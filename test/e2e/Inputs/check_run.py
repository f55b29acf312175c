"""Checks the run directory of `kdc run` on tiny.kd.

usage: check_run.py RUN_DIR

Every promised file exists; metrics.jsonl shows each stage's loss going
down (the mean of its last epoch below its first logged step); the distilled
student beats chance (4 classes) on the test split; manifest.json records
the spec and teacher hashes, the seed, the versions, the command line, the
target and the date. Prints what failed and exits 1, else prints "ok".
"""
import json
import os
import sys


def main():
    run = sys.argv[1]
    problems = []
    for name in ["plan.kdx", "metrics.jsonl", "final.json", "manifest.json",
                 "S.safetensors", "student.safetensors",
                 "checkpoints/T_train.safetensors", "checkpoints/distill.safetensors"]:
        if not os.path.isfile(os.path.join(run, name)):
            problems.append("missing " + name)

    first, last_epoch = {}, {}
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            stage = event["stage"]
            if event["event"] == "step" and stage not in first:
                first[stage] = event["loss"]
            if event["event"] == "epoch":
                last_epoch[stage] = event["loss"]
    for stage in ["T_train", "distill"]:
        if stage not in first or stage not in last_epoch:
            problems.append("no metrics for stage " + stage)
        elif not last_epoch[stage] < first[stage]:
            problems.append("loss of %s did not decrease: %g -> %g"
                            % (stage, first[stage], last_epoch[stage]))

    with open(os.path.join(run, "final.json")) as f:
        final = json.load(f)
    student = [e for e in final["evaluations"] if e["model"] == "S"]
    if not student or not student[-1]["accuracy"] > 0.25:
        problems.append("the student does not beat chance: %s" % student)

    with open(os.path.join(run, "manifest.json")) as f:
        manifest = json.load(f)
    spec = manifest.get("spec", {})
    if spec.get("file") != "tiny.kd" or len(spec.get("sha256", "")) != 64:
        problems.append("spec hash missing: %s" % spec)
    teacher = manifest.get("teacher_weights_sha256", {}).get("T", "")
    if len(teacher) != 64:
        problems.append("teacher hash missing")
    for key in ["seed", "target", "command_line", "date", "versions"]:
        if key not in manifest:
            problems.append("manifest lacks " + key)
    for key in ["kdc", "runtime", "compiler"]:
        if not manifest.get("versions", {}).get(key):
            problems.append("manifest lacks the %s version" % key)

    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
