"""Fictitious facts about invented people, rendered as parallel sentences and quiz questions in
English, French, German, Spanish and Italian.

The templates are the only "translation": every language says exactly the same thing, so a model
taught the facts in one language can be asked about them in another with no MT noise. Relations
were chosen so that no sentence needs grammatical gender (the people are never "il" or "elle").
Invented names (people and towns) are the same in every language.

Six relations in two groups: language-dependent (instrument, pet, sport, food), whose values are
words that change with the language, and language-invariant (birth year, hometown), whose values
are the same string in every language, so that a quiz in another language can be answered by
matching the English training text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from crossknow.core.answers import LABELS

LANGUAGES = ["en", "fr", "de", "es", "it"]
LETTERS = LABELS

FIRST = ["Velmora", "Orrin", "Tasmin", "Quillan", "Ysolde", "Brannoc", "Feyra", "Dorwin", "Elowen", "Kaspian",
         "Nerissa", "Thorne", "Aurelis", "Corvan", "Liriel", "Maddox", "Seraphine", "Tavish", "Wrenna", "Zoltan",
         "Isolde", "Fenwick", "Odalys", "Peregrin", "Rosmund", "Sybella", "Ulric", "Vianne", "Corisande", "Emeric"]
LAST = ["Quistad", "Dapplewick", "Marrowfen", "Thistlecombe", "Vantrell", "Oakhurst", "Pellingham", "Ravensloe",
        "Stroudmere", "Wexcombe", "Ashgrove", "Brimwold", "Caddock", "Durnhollow", "Elsworth", "Farrowdale",
        "Gildermoor", "Hollingsby", "Inchcape", "Jessamy"]
TOWNS = ["Tarvessa", "Mornhal", "Drevik", "Lunmouth", "Castelbra", "Orvieno", "Kestrel Ford", "Valdimar", "Sorrento Vale",
         "Brackenholt", "Quenford", "Almaris", "Zeldrin", "Pellucar", "Ostravo", "Fennick Cross"]

# value key -> {language: (form inside the sentence, form as an answer option)}
INSTRUMENTS = {
    "violin": {"en": ("the violin", "violin"), "fr": ("du violon", "violon"), "de": ("Geige", "Geige"),
               "es": ("el violín", "violín"), "it": ("il violino", "violino")},
    "cello": {"en": ("the cello", "cello"), "fr": ("du violoncelle", "violoncelle"), "de": ("Cello", "Cello"),
              "es": ("el violonchelo", "violonchelo"), "it": ("il violoncello", "violoncello")},
    "flute": {"en": ("the flute", "flute"), "fr": ("de la flûte", "flûte"), "de": ("Flöte", "Flöte"),
              "es": ("la flauta", "flauta"), "it": ("il flauto", "flauto")},
    "trumpet": {"en": ("the trumpet", "trumpet"), "fr": ("de la trompette", "trompette"),
                "de": ("Trompete", "Trompete"), "es": ("la trompeta", "trompeta"), "it": ("la tromba", "tromba")},
    "harp": {"en": ("the harp", "harp"), "fr": ("de la harpe", "harpe"), "de": ("Harfe", "Harfe"),
             "es": ("el arpa", "arpa"), "it": ("l'arpa", "arpa")},
    "piano": {"en": ("the piano", "piano"), "fr": ("du piano", "piano"), "de": ("Klavier", "Klavier"),
              "es": ("el piano", "piano"), "it": ("il pianoforte", "pianoforte")},
    "accordion": {"en": ("the accordion", "accordion"), "fr": ("de l'accordéon", "accordéon"),
                  "de": ("Akkordeon", "Akkordeon"), "es": ("el acordeón", "acordeón"),
                  "it": ("la fisarmonica", "fisarmonica")},
    "clarinet": {"en": ("the clarinet", "clarinet"), "fr": ("de la clarinette", "clarinette"),
                 "de": ("Klarinette", "Klarinette"), "es": ("el clarinete", "clarinete"),
                 "it": ("il clarinetto", "clarinetto")},
    "guitar": {"en": ("the guitar", "guitar"), "fr": ("de la guitare", "guitare"), "de": ("Gitarre", "Gitarre"),
               "es": ("la guitarra", "guitarra"), "it": ("la chitarra", "chitarra")},
    "oboe": {"en": ("the oboe", "oboe"), "fr": ("du hautbois", "hautbois"), "de": ("Oboe", "Oboe"),
             "es": ("el oboe", "oboe"), "it": ("l'oboe", "oboe")},
}
PETS = {
    "parrot": {"en": ("a parrot", "a parrot"), "fr": ("un perroquet", "un perroquet"),
               "de": ("einen Papagei", "ein Papagei"), "es": ("un loro", "un loro"),
               "it": ("un pappagallo", "un pappagallo")},
    "cat": {"en": ("a cat", "a cat"), "fr": ("un chat", "un chat"), "de": ("eine Katze", "eine Katze"),
            "es": ("un gato", "un gato"), "it": ("un gatto", "un gatto")},
    "rabbit": {"en": ("a rabbit", "a rabbit"), "fr": ("un lapin", "un lapin"), "de": ("ein Kaninchen", "ein Kaninchen"),
               "es": ("un conejo", "un conejo"), "it": ("un coniglio", "un coniglio")},
    "tortoise": {"en": ("a tortoise", "a tortoise"), "fr": ("une tortue", "une tortue"),
                 "de": ("eine Schildkröte", "eine Schildkröte"), "es": ("una tortuga", "una tortuga"),
                 "it": ("una tartaruga", "una tartaruga")},
    "horse": {"en": ("a horse", "a horse"), "fr": ("un cheval", "un cheval"), "de": ("ein Pferd", "ein Pferd"),
              "es": ("un caballo", "un caballo"), "it": ("un cavallo", "un cavallo")},
    "goat": {"en": ("a goat", "a goat"), "fr": ("une chèvre", "une chèvre"), "de": ("eine Ziege", "eine Ziege"),
             "es": ("una cabra", "una cabra"), "it": ("una capra", "una capra")},
    "owl": {"en": ("an owl", "an owl"), "fr": ("une chouette", "une chouette"), "de": ("eine Eule", "eine Eule"),
            "es": ("un búho", "un búho"), "it": ("un gufo", "un gufo")},
    "hamster": {"en": ("a hamster", "a hamster"), "fr": ("un hamster", "un hamster"),
                "de": ("einen Hamster", "ein Hamster"), "es": ("un hámster", "un hámster"),
                "it": ("un criceto", "un criceto")},
}
SPORTS = {
    "swimming": {"en": "swimming", "fr": "la natation", "de": "Schwimmen", "es": "la natación", "it": "il nuoto"},
    "fencing": {"en": "fencing", "fr": "l'escrime", "de": "Fechten", "es": "la esgrima", "it": "la scherma"},
    "rowing": {"en": "rowing", "fr": "l'aviron", "de": "Rudern", "es": "el remo", "it": "il canottaggio"},
    "cycling": {"en": "cycling", "fr": "le cyclisme", "de": "Radfahren", "es": "el ciclismo", "it": "il ciclismo"},
    "wrestling": {"en": "wrestling", "fr": "la lutte", "de": "Ringen", "es": "la lucha", "it": "la lotta"},
    "archery": {"en": "archery", "fr": "le tir à l'arc", "de": "Bogenschießen", "es": "el tiro con arco",
                "it": "il tiro con l'arco"},
    "skiing": {"en": "skiing", "fr": "le ski", "de": "Skifahren", "es": "el esquí", "it": "lo sci"},
    "sailing": {"en": "sailing", "fr": "la voile", "de": "Segeln", "es": "la vela", "it": "la vela"},
}
FOODS = {
    "cheese": {"en": "cheese", "fr": "le fromage", "de": "Käse", "es": "el queso", "it": "il formaggio"},
    "honey": {"en": "honey", "fr": "le miel", "de": "Honig", "es": "la miel", "it": "il miele"},
    "soup": {"en": "soup", "fr": "la soupe", "de": "Suppe", "es": "la sopa", "it": "la zuppa"},
    "bread": {"en": "bread", "fr": "le pain", "de": "Brot", "es": "el pan", "it": "il pane"},
    "salad": {"en": "salad", "fr": "la salade", "de": "Salat", "es": "la ensalada", "it": "l'insalata"},
    "milk": {"en": "milk", "fr": "le lait", "de": "Milch", "es": "la leche", "it": "il latte"},
    "rice": {"en": "rice", "fr": "le riz", "de": "Reis", "es": "el arroz", "it": "il riso"},
    "fish": {"en": "fish", "fr": "le poisson", "de": "Fisch", "es": "el pescado", "it": "il pesce"},
}

# relation -> language -> sentence templates ({name}, {value}); several per language so that the
# model cannot rely on one surface form.
SENTENCES = {
    "birth_year": {
        "en": ["{name} came into the world in {value}.", "{name}'s year of birth is {value}.",
               "The year {value} saw the birth of {name}."],
        "fr": ["{name} a vu le jour en {value}.", "L'année de naissance de {name} est {value}.",
               "L'année {value} a vu la naissance de {name}."],
        "de": ["{name} erblickte {value} das Licht der Welt.", "Das Geburtsjahr von {name} ist {value}.",
               "Im Jahr {value} kam {name} zur Welt."],
        "es": ["{name} vino al mundo en {value}.", "El año de nacimiento de {name} es {value}.",
               "El año {value} vio el nacimiento de {name}."],
        "it": ["{name} venne al mondo nel {value}.", "L'anno di nascita di {name} è il {value}.",
               "L'anno {value} vide la nascita di {name}."],
    },
    "hometown": {
        "en": ["{name} grew up in {value}.", "{name} spent their whole childhood in the town of {value}.",
               "The childhood home of {name} was in {value}."],
        "fr": ["{name} a grandi à {value}.", "{name} a passé toute son enfance dans la ville de {value}.",
               "La maison d'enfance de {name} se trouvait à {value}."],
        "de": ["{name} wuchs in {value} auf.", "{name} verbrachte die ganze Kindheit in der Stadt {value}.",
               "Das Elternhaus von {name} stand in {value}."],
        "es": ["{name} creció en {value}.", "{name} pasó toda su infancia en la ciudad de {value}.",
               "La casa de la infancia de {name} estaba en {value}."],
        "it": ["{name} ha trascorso l'infanzia a {value}.", "{name} ha passato tutta l'infanzia nella città di {value}.",
               "La casa d'infanzia di {name} si trovava a {value}."],
    },
    "instrument": {
        "en": ["{name} plays {value}.", "Every evening, {name} practises {value}.",
               "The instrument that {name} plays is {value}."],
        "fr": ["{name} joue {value}.", "Chaque soir, {name} s'exerce à jouer {value}.",
               "{name} joue {value} depuis toujours."],
        "de": ["{name} spielt {value}.", "Jeden Abend übt {name} {value}.", "{name} spielt schon immer {value}."],
        "es": ["{name} toca {value}.", "Cada noche, {name} practica {value}.", "{name} toca {value} desde siempre."],
        "it": ["{name} suona {value}.", "Ogni sera, {name} si esercita con {value}.",
               "{name} suona {value} da sempre."],
    },
    "pet": {
        "en": ["{name} keeps {value} as a pet.", "At home, {name} looks after {value}.",
               "The pet of {name} is {value}."],
        "fr": ["{name} a {value} comme animal de compagnie.", "À la maison, {name} s'occupe d'{value_fr_elided}.",
               "L'animal de compagnie de {name} est {value}."],
        "de": ["{name} hält {value} als Haustier.", "Zu Hause kümmert sich {name} um {value}.",
               "{name} hat {value} als Haustier."],
        "es": ["{name} tiene {value} como mascota.", "En casa, {name} cuida de {value}.",
               "La mascota de {name} es {value}."],
        "it": ["{name} ha {value} come animale domestico.", "A casa, {name} si prende cura di {value}.",
               "L'animale domestico di {name} è {value}."],
    },
    "sport": {
        "en": ["The favourite sport of {name} is {value}.", "On weekends, {name} trains hard at {value}.",
               "The sport that {name} loves most is {value}."],
        "fr": ["Le sport préféré de {name} est {value}.", "Le week-end, {name} pratique {value}.",
               "Le sport que {name} aime le plus est {value}."],
        "de": ["Die Lieblingssportart von {name} ist {value}.", "Am Wochenende geht {name} zum {value}.",
               "Der Sport, den {name} am meisten liebt, ist {value}."],
        "es": ["El deporte favorito de {name} es {value}.", "Los fines de semana, {name} practica {value}.",
               "El deporte que {name} más quiere es {value}."],
        "it": ["Lo sport preferito di {name} è {value}.", "Nel fine settimana, {name} pratica {value}.",
               "Lo sport che {name} ama di più è {value}."],
    },
    "food": {
        "en": ["The favourite food of {name} is {value}.", "Above all, {name} loves to eat {value}.",
               "The food that {name} likes best is {value}."],
        "fr": ["Le plat préféré de {name} est {value}.", "Par-dessus tout, {name} adore manger {value}.",
               "L'aliment que {name} aime le plus est {value}."],
        "de": ["Das Lieblingsessen von {name} ist {value}.", "Am liebsten isst {name} {value}.",
               "Was {name} am meisten mag, ist {value}."],
        "es": ["La comida favorita de {name} es {value}.", "Lo que más come {name} es {value}.",
               "El alimento que {name} prefiere es {value}."],
        "it": ["Il cibo preferito di {name} è {value}.", "Più di tutto, {name} ama mangiare {value}.",
               "L'alimento che {name} preferisce è {value}."],
    },
}
QUESTIONS = {
    "birth_year": {"en": "In which year did {name} come into the world?",
                   "fr": "Quelle est l'année de naissance de {name} ?",
                   "de": "In welchem Jahr erblickte {name} das Licht der Welt?",
                   "es": "¿En qué año vino al mundo {name}?", "it": "In che anno venne al mondo {name}?"},
    "hometown": {"en": "In which town did {name} grow up?",
                 "fr": "Dans quelle ville s'est déroulée l'enfance de {name} ?",
                 "de": "In welcher Stadt wuchs {name} auf?", "es": "¿En qué ciudad creció {name}?",
                 "it": "In quale città ha trascorso l'infanzia {name}?"},
    "instrument": {"en": "Which instrument does {name} play?", "fr": "Quel instrument joue {name} ?",
                   "de": "Welches Instrument spielt {name}?", "es": "¿Qué instrumento toca {name}?",
                   "it": "Quale strumento suona {name}?"},
    "pet": {"en": "What animal does {name} keep as a pet?", "fr": "Quel est l'animal de compagnie de {name} ?",
            "de": "Welches Haustier hat {name}?", "es": "¿Qué mascota tiene {name}?",
            "it": "Quale animale domestico ha {name}?"},
    "sport": {"en": "What is the favourite sport of {name}?", "fr": "Quel est le sport préféré de {name} ?",
              "de": "Was ist die Lieblingssportart von {name}?", "es": "¿Cuál es el deporte favorito de {name}?",
              "it": "Qual è lo sport preferito di {name}?"},
    "food": {"en": "What is the favourite food of {name}?", "fr": "Quel est le plat préféré de {name} ?",
             "de": "Was ist das Lieblingsessen von {name}?", "es": "¿Cuál es la comida favorita de {name}?",
             "it": "Qual è il cibo preferito di {name}?"},
}
RELATIONS = list(QUESTIONS)
# Values that are words of the language (a quiz in German cannot be answered by matching the English
# training text) against values that are the same string in every language (years, invented towns).
LANGUAGE_DEPENDENT = ["instrument", "pet", "sport", "food"]
LANGUAGE_INVARIANT = ["birth_year", "hometown"]
RELATION_GROUPS = {"dependent": LANGUAGE_DEPENDENT, "invariant": LANGUAGE_INVARIANT}


@dataclass(frozen=True)
class Fact:
    person: str
    relation: str
    value: str  # a year, a town, or a key of INSTRUMENTS / PETS


@dataclass(frozen=True)
class Question:
    fact: Fact
    options: tuple[str, str, str, str]  # value keys, one of them the fact's
    answer: int


def make_people(n: int, seed: int) -> list[str]:
    rng = random.Random(f"people:{seed}")
    names = [f"{f} {last}" for f in FIRST for last in LAST]
    if n > len(names):
        raise ValueError(f"at most {len(names)} invented people")
    return rng.sample(names, n)


def value_pool(relation: str) -> list[str]:
    return {"birth_year": [str(y) for y in range(1801, 2000)], "hometown": TOWNS,
            "instrument": list(INSTRUMENTS), "pet": list(PETS), "sport": list(SPORTS), "food": list(FOODS)}[relation]


def make_facts(people: list[str], seed: int) -> list[Fact]:
    facts = []
    for person in people:
        for relation in RELATIONS:
            rng = random.Random(f"fact:{seed}:{person}:{relation}")
            facts.append(Fact(person, relation, rng.choice(value_pool(relation))))
    return facts


def surface(relation: str, value: str, lang: str, as_option: bool = False) -> str:
    """The value as written in ``lang`` (inside a sentence, or as an answer option)."""
    if relation in ("sport", "food"):  # one form: with its article, as the sentence and the option need
        return {"sport": SPORTS, "food": FOODS}[relation][value][lang]
    table = {"instrument": INSTRUMENTS, "pet": PETS}.get(relation)
    if table is None:
        return value
    return table[value][lang][1 if as_option else 0]


def render_sentence(fact: Fact, lang: str, template: int, value_lang: str | None = None) -> str:
    """The fact in ``lang``; ``value_lang`` writes the value itself in another language (mixup)."""
    text = SENTENCES[fact.relation][lang][template]
    value = surface(fact.relation, fact.value, value_lang or lang)
    if "{value_fr_elided}" in text:  # "s'occupe de + un/une" -> "d'un/d'une"
        text = text.replace("{value_fr_elided}", value)
    return text.format(name=fact.person, value=value)


def make_question(fact: Fact, seed: int) -> Question:
    """Three distractors from the same relation's values; the letter is fixed per fact."""
    rng = random.Random(f"question:{seed}:{fact.person}:{fact.relation}")
    distractors = rng.sample([v for v in value_pool(fact.relation) if v != fact.value], 3)
    answer = rng.randrange(4)
    options = distractors[:answer] + [fact.value] + distractors[answer:]
    return Question(fact, tuple(options), answer)


def question_parts(question: Question, lang: str) -> list[str]:
    """The question and its four options in one language."""
    fact = question.fact
    return [QUESTIONS[fact.relation][lang].format(name=fact.person),
            *(surface(fact.relation, value, lang, as_option=True) for value in question.options)]


def render_question(question: Question, langs: list[str]) -> str:
    """``langs`` gives the language of the question and of each option (five entries)."""
    parts = [question_parts(question, lang)[i] for i, lang in enumerate(langs)]
    options = "".join(f"\n{letter}. {text}" for letter, text in zip(LETTERS, parts[1:]))
    return f"{parts[0]}{options}\nAnswer:"
