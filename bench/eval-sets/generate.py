#!/usr/bin/env python3
"""Generates the retrieval evaluation sets in bench/eval-sets/ (format of `voxon eval retrieval`).

Deterministic: the same seed gives byte-identical files. Standard library only.
    python3 bench/eval-sets/generate.py            # writes every set
Each conversation is a pair of friends talking over ~25 dated sessions (~650 turns, >= 300 per speaker).
Questions (category numbers as in the public long-conversation benchmark):
    1 multi-hop   - the answer needs two or more turns (list questions, a fact about a relative in two steps)
    2 temporal    - "when did...", "what did ... in <month year>"; the turn usually says "yesterday" or "last week"
    3 open-domain - an inference from a stated preference, worded with none of its words
    4 single-hop  - a paraphrase of one turn, or a short reply ("The red one, it was on sale") that only its
                    neighbouring question makes findable
Distractors: both speakers have events of every kind (jobs, pets, trips...), friends' and coworkers' news on the
same topics, and small talk.
"""
import datetime as dt
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

SETS = [
    # name, seed, speaker pairs, session-date style
    ("dialogues-a", 11, [("Maya", "Jon"), ("Priya", "Sam")], "locomo"),
    ("dialogues-b-heldout", 29, [("Elena", "Marcus"), ("Hana", "Theo")], "mixed"),
]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

PAST = [("yesterday", -1), ("two days ago", -2), ("three days ago", -3), ("last week", -7), ("a week ago", -7),
        ("two weeks ago", -14), ("last month", -30), ("this morning", 0), ("the other day", -2)]
FUTURE = [("tomorrow", 1), ("next week", 7), ("next month", 30), ("in two weeks", 14)]

# Each kind: values (statement word, question paraphrase), statements, paraphrase questions, when-questions,
# month questions, distractors (same topic, no fact). {rel} is a relative time expression, {o} the other speaker.
KINDS = {
    "job": dict(
        named="When did {X} start working at {p}?",
        values=[("the children's hospital on Fifth", "a pediatric ward"), ("Holloway & Finch, the architecture firm", "a design studio"),
                ("the public library downtown", "a place full of books"), ("a tiny coffee roastery", "a business that sells beans"),
                ("the city water department", "a municipal utility"), ("a startup making solar panels", "a renewable energy company"),
                ("the veterinary clinic near the park", "an animal doctor's office"), ("Greenleaf Logistics", "a shipping company")],
        say=["{Rel} was my first day at {v}, still figuring out where the coffee machine is.",
             "I started at {v} {rel}! New badge and everything.",
             "So {rel} I finally signed the contract and began working at {v}."],
        ask=["Who is {X}'s new employer?", "Which organisation took {X} on as staff recently?", "Where does {X} earn a living these days?"],
        when=["When did {X} begin the new position?", "When was {X}'s first day at the new workplace?"],
        month=["Which employer did {X} join in {M}?"],
        noise=["My cousin keeps applying to {v} but never hears back.", "Work has been brutal this week, so many meetings.",
               "I had a call with a recruiter, nothing serious though.", "Do you ever think about switching careers?"]),
    "pet": dict(
        named="When did {X} get {p}?",
        values=[("a grey tabby kitten", "a young cat"), ("an old beagle", "a senior hound"), ("two budgies", "a pair of small parrots"),
                ("a rescue greyhound", "a retired racing dog"), ("a lop-eared rabbit", "a bunny"), ("a corn snake", "a reptile")],
        say=["We brought home {v} from the shelter {rel}, I'm obsessed.", "{Rel} I adopted {v}! The apartment is chaos now.",
             "Guess who has {v} now? Picked it up from the rescue {rel}."],
        ask=["What animal joined {X}'s household?", "Which creature did {X} take in from the rescue centre?", "What kind of companion animal does {X} look after now?"],
        when=["When did {X} get the new animal?", "When did {X}'s family grow by one furry or scaly member?"],
        month=["What did {X} adopt in {M}?"],
        noise=["My neighbour's dog barks all night, it's driving me mad.", "I've been watching videos of {v} all evening.",
               "Pets are so expensive, the vet bills alone!", "My coworker wants {v} but her landlord says no."]),
    "trip": dict(
        named="When was {X} in {p}?",
        values=[("Lisbon", "Portugal's capital"), ("Kyoto", "the old imperial city in Japan"), ("the Scottish Highlands", "northern Scotland"),
                ("Reykjavik", "Iceland"), ("Oaxaca", "southern Mexico"), ("the Amalfi coast", "the Italian seaside"), ("Vancouver Island", "western Canada")],
        say=["Just got back from {v} {rel}, my feet still hurt from all the walking.", "{Rel} we flew home from {v}. Best week of the year.",
             "I was in {v} until {rel}, the food alone was worth it."],
        ask=["Where did {X} go on holiday?", "Which destination did {X} recently visit abroad?", "What place did {X} travel to for vacation?"],
        when=["When did {X} come back from the vacation?", "When did {X} return home from the holiday?"],
        month=["Where was {X} travelling in {M}?"],
        noise=["My boss is going to {v} next year, jealous.", "Airports are the worst, I always lose something.",
               "Have you ever been to {v}? Everyone says it's amazing.", "I spent the evening looking at cheap flights I will never book."]),
    "car": dict(
        named="When did {X} buy {p}?",
        values=[("a used red Mazda hatchback", "a small Japanese car"), ("an electric scooter", "a battery-powered two-wheeler"),
                ("a secondhand camper van", "a vehicle you can sleep in"), ("a cargo bike", "a bicycle for hauling stuff"), ("an old Volvo wagon", "a Swedish estate car")],
        say=["I bought {v} {rel}, no more waiting for the bus!", "{Rel} I finally picked up {v} from the seller.",
             "So I'm now the proud owner of {v}, got it {rel}."],
        ask=["How does {X} get around town now?", "What did {X} purchase for commuting?", "What means of transport did {X} acquire?"],
        when=["When did {X} buy the new ride?", "When did {X} get the new set of wheels?"],
        month=["What did {X} buy in {M}?"],
        noise=["Traffic was insane on the bridge today.", "My brother wants {v} but they're so pricey.",
               "Parking downtown costs a fortune now.", "The bus was 40 minutes late again."]),
    "injury": dict(
        named="When did {X} have {p}?",
        values=[("sprained my ankle playing basketball", "a hurt foot joint from a ball game"), ("broke my wrist falling off a ladder", "a fractured arm bone from a fall"),
                ("pulled a muscle in my back lifting boxes", "a strained back"), ("cut my hand badly cooking", "a kitchen knife accident"),
                ("tore a ligament skiing", "a knee injury on the slopes")],
        say=["I {v} {rel}, so I'm stuck on the couch.", "Ugh, {rel} I {v}. The doctor says six weeks.",
             "Don't laugh, but I {v} {rel}."],
        ask=["How did {X} get hurt?", "What accident left {X} recovering at home?", "What health setback did {X} suffer?"],
        when=["When did {X} get injured?", "When did {X}'s accident happen?"],
        month=["What happened to {X}'s health in {M}?"],
        noise=["My physio says I should stretch more, I never do.", "A guy at my gym got hurt last year, scary.",
               "I've been sleeping badly, my neck is stiff.", "Remember to wear a helmet, seriously."]),
    "hobby": dict(
        named="When did {X} get into {p}?",
        values=[("a pottery class", "making ceramics"), ("salsa lessons", "Latin dancing"), ("a bouldering gym membership", "indoor climbing"),
                ("a beginner watercolour course", "painting"), ("a community choir", "singing in a group"), ("a sourdough workshop", "bread baking"),
                ("chess club on Thursdays", "a board game with kings and queens")],
        say=["I signed up for {v} {rel}, the first session was humbling.", "{Rel} I started {v}. I'm terrible but it's fun.",
             "New thing: I joined {v} {rel}!"],
        ask=["What new pastime has {X} taken up?", "Which leisure activity did {X} begin?", "What does {X} do for fun lately?"],
        when=["When did {X} start the new activity?", "When did {X} take up the new pastime?"],
        month=["What did {X} sign up for in {M}?"],
        noise=["I keep meaning to try {v} but never have time.", "My roommate quit {v} after a week.",
               "Hobbies are hard to keep up with a full-time job.", "I watched a documentary about {v}, oddly relaxing."]),
    "move": dict(
        named="When did {X} move to {p}?",
        values=[("a flat above a bakery in Riverside", "the neighbourhood by the river"), ("a townhouse in Oak Hill", "the leafy district with the oaks"),
                ("a studio near the harbour", "a place by the docks"), ("my grandmother's old house in Millbrook", "a small town inherited home"),
                ("a shared house near campus", "the university area")],
        say=["We moved into {v} {rel}, boxes everywhere.", "{Rel} I got the keys to {v}!", "Finally living in {v}, the move was {rel}."],
        ask=["Which part of town is {X} living in now?", "Where is {X}'s new home?", "What kind of place does {X} reside in these days?"],
        when=["When did {X} relocate?", "When did {X} change address?"],
        month=["Where did {X} move to in {M}?"],
        noise=["Rent keeps going up everywhere.", "A friend of mine is looking at {v} too.",
               "Our landlord still hasn't fixed the heating.", "Packing is the worst part of moving."]),
    "race": dict(
        named="When did {X} do {p}?",
        values=[("my first half marathon", "a 21 kilometre run"), ("a 10k charity run", "a ten kilometre fundraiser"),
                ("an open-water swim across the lake", "a long swim outdoors"), ("a 100 mile bike ride", "a long cycling event"), ("a trail ultra", "a very long mountain run")],
        say=["I finished {v} {rel}! Legs are jelly.", "{Rel} I did {v}, no idea how I survived.", "Crossed the line of {v} {rel}, cried a bit."],
        ask=["What endurance event did {X} complete?", "Which sporting challenge did {X} get through?", "What athletic feat did {X} accomplish?"],
        when=["When did {X} complete the endurance event?", "When did {X} finish the big athletic challenge?"],
        month=["What event did {X} finish in {M}?"],
        noise=["I should really start running again.", "My sister is training for {v} too.",
               "Sports drinks taste like chemicals.", "The park is full of joggers on Sundays."]),
}

RELATIVES = [("sister", "Nadia"), ("brother", "Felix"), ("cousin", "Iris"), ("uncle", "Ravi"), ("aunt", "Greta"), ("brother-in-law", "Owen")]
REL_PARA = {"sister": "female sibling", "brother": "male sibling", "cousin": "relative of the same generation", "uncle": "father's or mother's brother",
            "aunt": "mother's or father's sister", "brother-in-law": "sibling's husband"}
REL_JOBS = [("a firefighter", "puts out fires"), ("a pastry chef", "bakes desserts for a living"), ("a park ranger", "works in a national park"),
            ("a flight attendant", "works on planes"), ("a dentist", "takes care of teeth")]
CITIES = ["Denver", "Glasgow", "Melbourne", "Toronto", "Seville", "Osaka", "Cape Town"]

# Preferences and open-domain questions that share no content word with them.
PREFS = [("Crowds make me anxious, I'd much rather be on a quiet trail somewhere.", "Would {X} enjoy a packed music festival?"),
         ("I can't handle the cold at all, winter is my least favourite season.", "Would {X} like a skiing holiday in the Alps?"),
         ("Spicy food is my weakness, the hotter the better.", "Would {X} order a fiery curry at a restaurant?"),
         ("I get seasick just looking at boats.", "Would {X} sign up for a sailing cruise?"),
         ("Honestly I'm a night owl, mornings are torture.", "Is {X} likely to join a 6 am bootcamp?"),
         ("I read every mystery novel I can get my hands on.", "What kind of gift would a bookworm like {X} appreciate?"),
         ("Horror movies give me nightmares for weeks.", "Would {X} want to watch a slasher film on Halloween?"),
         ("I'm allergic to cats, even being in the same room is bad.", "Could {X} comfortably house-sit for someone with felines?"),
         ("Loud bars are not my thing, I like a board game night at home.", "Would {X} rather go clubbing or stay in?"),
         ("I've been vegetarian for ten years now.", "Would {X} enjoy a steakhouse dinner?")]

# Choice dialogues: the other speaker asks, the speaker answers briefly; the question words only appear in the ask.
CHOICES = [("kayak", "red", "blue", "it was on sale", "What colour boat did {X} end up buying?"),
           ("sofa", "green velvet", "grey linen", "the velvet felt nicer", "Which couch did {X} pick for the living room?"),
           ("laptop", "smaller", "bigger", "I carry it everywhere", "Which computer size did {X} go for?"),
           ("wedding venue", "barn", "vineyard", "the barn had more space", "Where will {X}'s wedding reception be held?"),
           ("puppy name", "Pickle", "Waffle", "it just suited him", "What did {X} decide to call the young dog?"),
           ("paint for the bedroom", "sage", "navy", "navy felt too dark", "What shade are {X}'s bedroom walls now?")]

FILLER = ["Haha, that's so true.", "How was your weekend?", "Not much, just the usual.", "Oh wow, really?", "That sounds exhausting.",
          "I know what you mean.", "Anyway, how are things with you?", "Same old, same old.", "Ha! Classic.", "Did you see the game last night?",
          "I've been so tired lately.", "The weather has been weird, right?", "I made pasta again, shocker.", "Let's catch up properly soon.",
          "I finally cleaned the fridge, it was a crime scene.", "Sorry, I was slow to reply, busy day.", "That's a good point actually.",
          "I've been binge-watching a baking show.", "Coffee is the only thing keeping me alive today.", "Ugh, Mondays.",
          "My phone screen cracked again.", "I tried that new ramen place, it was fine.", "We should plan something for the summer.",
          "Ha, I'd never have guessed that.", "Good for you, honestly.", "What's new on your end?", "Can't complain, really."]
TAILS = ["", "", "", " Anyway.", " Long story.", " I need a holiday.", " The kids were loud all day.", " My manager called twice.",
         " Still raining here.", " I ate way too much cake.", " The cat knocked over a plant again.", " Laundry is piling up."]
REPLIES = ["Congrats, that's huge!", "No way, tell me everything.", "Oh no, I'm sorry to hear that.", "That's amazing, well done!",
           "How are you feeling about it?", "Wow, I had no idea.", "You deserve it.", "Pictures, please!"]


def fmt_date(when, style, rng):
    if style == "locomo" or (style == "mixed" and rng.random() < 0.25):
        hour = when.hour % 12 or 12
        return f"{hour}:{when.minute:02d} {'am' if when.hour < 12 else 'pm'} on {when.day} {MONTHS[when.month - 1]}, {when.year}"
    choice = rng.randrange(3)
    if choice == 0:
        return when.strftime("%Y-%m-%d %H:%M")
    if choice == 1:
        return f"{MONTHS[when.month - 1]} {when.day}, {when.year}"
    return f"{when.day} {MONTHS[when.month - 1][:3]} {when.year}, {when.hour:02d}:{when.minute:02d}"


def cap(s):
    return s[0].upper() + s[1:]


def build(name, seed, pairs, style):
    rng = random.Random(seed)
    memories, queries = [], []
    for conv_index, (a, b) in enumerate(pairs):
        conv = f"{name}-{conv_index + 1}"
        start = dt.datetime(2022 + rng.randrange(2), 1 + rng.randrange(10), 1 + rng.randrange(27), 9 + rng.randrange(11), rng.randrange(60))
        sessions = []
        when = start
        for _ in range(25):
            sessions.append(when)
            when = when + dt.timedelta(days=4 + rng.randrange(14), hours=rng.randrange(-5, 6), minutes=rng.randrange(60))
        # plan: each speaker gets one or two events of every kind, spread over sessions
        plan = {i: [] for i in range(len(sessions))}
        for speaker in (a, b):
            for kind, spec in KINDS.items():
                values = rng.sample(spec["values"], 2)
                for value in values[: 1 + (rng.random() < 0.4)]:
                    plan[rng.randrange(1, len(sessions))].append(("event", speaker, kind, value))
            for rel in rng.sample(RELATIVES, 2):
                first = rng.randrange(1, len(sessions) - 6)
                job, city = rng.choice(REL_JOBS), rng.choice(CITIES)
                plan[first].append(("relative_job", speaker, rel, job))
                plan[first + 2 + rng.randrange(4)].append(("relative_move", speaker, rel, city, job))
            for pref in rng.sample(PREFS, 4):
                plan[rng.randrange(len(sessions))].append(("pref", speaker, pref))
            for choice in rng.sample(CHOICES, 3):
                plan[rng.randrange(len(sessions))].append(("choice", speaker, choice))
        events = {a: {}, b: {}}
        for s, date in enumerate(sessions):
            turns = []
            items = plan[s]
            rng.shuffle(items)
            for item in items:
                speaker = item[1]
                other = b if speaker == a else a
                if item[0] == "event":
                    _, _, kind, value = item
                    spec = KINDS[kind]
                    rel, offset = rng.choice(PAST)
                    text = rng.choice(spec["say"]).format(v=value[0], rel=rel, Rel=cap(rel))
                    turns.append((speaker, text, ("event", kind, value, date + dt.timedelta(days=offset))))
                    turns.append((other, rng.choice(REPLIES), None))
                    for noise in rng.sample(spec["noise"], 2):
                        other_value = rng.choice([v for v in spec["values"] if v != value])
                        turns.append((rng.choice([a, b]), noise.format(v=other_value[0]), None))
                elif item[0] == "relative_job":
                    _, _, (relation, who), job = item
                    turns.append((speaker, f"My {relation} {who} just became {job[0]}, the whole family is proud.", ("relative_job", relation, who)))
                    turns.append((other, rng.choice(REPLIES), None))
                elif item[0] == "relative_move":
                    _, _, (relation, who), city, job = item
                    rel, offset = rng.choice(PAST)
                    turns.append((speaker, f"{who} packed up and left for {city} {rel}, we'll miss having them around.", ("relative_move", relation, who, city, job)))
                    turns.append((other, f"{city}? That's a big change.", None))
                elif item[0] == "pref":
                    turns.append((speaker, item[2][0], ("pref", item[2])))
                elif item[0] == "choice":
                    thing, opt1, opt2, reason, question = item[2]
                    pick, skip = (opt1, opt2) if rng.random() < 0.5 else (opt2, opt1)
                    turns.append((other, f"So what happened with the {thing}, {opt1} or {opt2}?", None))
                    turns.append((speaker, f"The {pick} one in the end, {reason}.", ("choice", item[2])))
            while len(turns) < 26:
                turns.insert(rng.randrange(len(turns) + 1), (rng.choice([a, b]), rng.choice(FILLER) + rng.choice(TAILS), None))
            session_date = fmt_date(date, style, rng)
            for t, (speaker, text, tag) in enumerate(turns):
                dia = f"D{s + 1}:{t + 1}"
                memories.append({"conv": conv, "dia_id": dia, "speaker": speaker, "session_date": session_date, "text": text})
                if tag:
                    events[speaker].setdefault(tag[0], []).append((dia, tag, date))
        for x in (a, b):
            ev = events[x]
            by_kind = {}
            for dia, tag, date in ev.get("event", []):
                by_kind.setdefault(tag[1], []).append((dia, tag, date))
            for kind, items in by_kind.items():
                spec = KINDS[kind]
                for dia, tag, date in items:
                    happened = tag[3]
                    if len(items) == 1:
                        queries.append({"conv": conv, "question": rng.choice(spec["ask"]).format(X=x), "evidence": [dia], "category": 4})
                        queries.append({"conv": conv, "question": rng.choice(spec["when"]).format(X=x), "evidence": [dia], "category": 2})
                    else:
                        # people often name the thing they ask about ("the trip to Lisbon"), in their own words
                        queries.append({"conv": conv, "question": spec["named"].format(X=x, p=tag[2][1]), "evidence": [dia], "category": 2})
                    month = f"{MONTHS[happened.month - 1]} {happened.year}"
                    queries.append({"conv": conv, "question": rng.choice(spec["month"]).format(X=x, M=month), "evidence": [dia], "category": 2})
                if len(items) > 1:
                    queries.append({"conv": conv, "question": rng.choice(spec["ask"]).format(X=x).replace("?", " (all of them)?"),
                                    "evidence": [d for d, _, _ in items], "category": 1})
            trips = by_kind.get("trip", []) + by_kind.get("hobby", [])
            if len(trips) >= 2:
                queries.append({"conv": conv, "question": f"Which places has {x} visited and what new activities has {x} tried?",
                                 "evidence": [d for d, _, _ in trips], "category": 1})
            jobs = {tag[2]: dia for dia, tag, _ in ev.get("relative_job", [])}
            for dia, tag, _ in ev.get("relative_move", []):
                _, relation, who, city, job = tag
                if who in jobs:
                    queries.append({"conv": conv, "question": f"Which city did the person in {x}'s family who {job[1]} move to?",
                                    "evidence": [jobs[who], dia], "category": 1})
                    queries.append({"conv": conv, "question": f"What does {x}'s {REL_PARA[relation]} do, and where do they live now?",
                                    "evidence": [jobs[who], dia], "category": 1})
            for dia, tag, _ in ev.get("pref", []):
                queries.append({"conv": conv, "question": tag[1][1].format(X=x), "evidence": [dia], "category": 3})
            for dia, tag, _ in ev.get("choice", []):
                queries.append({"conv": conv, "question": tag[1][4].format(X=x), "evidence": [dia], "category": 4})
    return memories, queries


def main():
    for name, seed, pairs, style in SETS:
        memories, queries = build(name, seed, pairs, style)
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        for file, rows in (("memories.jsonl", memories), ("queries.jsonl", queries)):
            with open(os.path.join(folder, file), "w", encoding="utf-8", newline="\n") as out:
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
        per_speaker = {}
        for m in memories:
            per_speaker[(m["conv"], m["speaker"])] = per_speaker.get((m["conv"], m["speaker"]), 0) + 1
        cats = {}
        for q in queries:
            cats[q["category"]] = cats.get(q["category"], 0) + 1
        print(name, len(memories), "turns", min(per_speaker.values()), "min per speaker", len(queries), "queries", dict(sorted(cats.items())))


if __name__ == "__main__":
    main()
