#!/usr/bin/env python3
"""Converts the public long-conversation benchmark (LoCoMo JSON) into `voxon eval retrieval` input.

The benchmark is not shipped with Voxon: point this at your own copy, a file or a folder of them.
    python3 bench/eval-sets/locomo.py PATH [PATH...] --out DIR
writes DIR/memories.jsonl and DIR/queries.jsonl (the format bench/eval-sets/README.md describes):
  - one memory per turn: conv (the file's name without .json, or the sample_id when the file holds a list),
    dia_id ("D1:3"), speaker, session_date (the session's "1:56 pm on 8 May, 2023"), text (the turn's words;
    with --captions, a shared photo's caption is appended as "[shares a photo of ...]");
  - one query per question of categories 1-4 (5, adversarial, has no evidence to find and is left out): conv,
    question, evidence (the turn ids), category (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop) and
    category_name.
Evidence ids are read as the benchmark writes them, including its slips ("D8:6; D9:17" in one string, "D:11:26",
"D30:05"); an id that names no turn of its conversation is dropped with a note on stderr, and a question left with no
evidence is skipped. Standard library only.
"""
import argparse
import json
import os
import re
import sys

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
EVIDENCE = re.compile(r"D:?(\d+):0*(\d+)")
SESSION = re.compile(r"session_(\d+)")


def conversations(path):
    """Yields (conv id, conversation dict, qa list) for a file or every .json file of a folder."""
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".json")) if os.path.isdir(path) else [path]
    for file in files:
        with open(file, encoding="utf-8") as stream:
            data = json.load(stream)
        name = os.path.splitext(os.path.basename(file))[0]
        # The released file is one list of samples ({sample_id, conversation, qa}); the per-user files are one sample.
        samples = data if isinstance(data, list) else [data]
        for sample in samples:
            conversation = sample.get("conversation", sample)
            conv = str(sample.get("sample_id", name)) if isinstance(data, list) else name
            yield conv, conversation, sample.get("qa", [])


def turns(conversation, captions):
    """Yields memory records in session order, then turn order."""
    sessions = sorted((int(m.group(1)), key) for key in conversation if (m := SESSION.fullmatch(key)))
    for number, key in sessions:
        date = conversation.get(f"session_{number}_date_time")
        for turn in conversation[key]:
            text = turn["text"]
            if captions and turn.get("blip_caption"):
                text = f"{text} [shares a photo of {turn['blip_caption']}]"
            yield {"dia_id": turn["dia_id"], "speaker": turn["speaker"], "session_date": date, "text": text}


def evidence_ids(evidence):
    """Normalizes the benchmark's evidence strings into turn ids ("D:11:26" and "D11:026" both give "D11:26")."""
    for item in evidence:
        for match in EVIDENCE.finditer(item):
            yield f"D{int(match.group(1))}:{int(match.group(2))}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="LoCoMo JSON files or folders of them")
    parser.add_argument("--out", required=True, help="folder for memories.jsonl and queries.jsonl")
    parser.add_argument("--captions", action="store_true", help="append a shared photo's caption to its turn's text")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    memory_count = query_count = skipped = dropped = 0
    with open(os.path.join(args.out, "memories.jsonl"), "w", encoding="utf-8") as memories, \
            open(os.path.join(args.out, "queries.jsonl"), "w", encoding="utf-8") as queries:
        for path in args.paths:
            for conv, conversation, qa in conversations(path):
                ids = set()
                for memory in turns(conversation, args.captions):
                    ids.add(memory["dia_id"])
                    memories.write(json.dumps({"conv": conv, **memory}, ensure_ascii=False) + "\n")
                    memory_count += 1
                for item in qa:
                    category = item.get("category")
                    if category not in CATEGORIES:
                        continue
                    evidence = []
                    for dia_id in evidence_ids(item.get("evidence", [])):
                        if dia_id not in ids:
                            print(f"{conv}: evidence {dia_id} names no turn; dropped ({item['question']!r})", file=sys.stderr)
                            dropped += 1
                        elif dia_id not in evidence:
                            evidence.append(dia_id)
                    if not evidence:
                        skipped += 1
                        continue
                    queries.write(json.dumps({"conv": conv, "question": item["question"], "evidence": evidence,
                                              "category": category, "category_name": CATEGORIES[category]},
                                             ensure_ascii=False) + "\n")
                    query_count += 1
    print(f"{memory_count} memories, {query_count} questions ({skipped} without evidence skipped, "
          f"{dropped} evidence ids dropped) in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
