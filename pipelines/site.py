#!/usr/bin/env python3
"""Writes the gallery's web page: OUT/site/index.html and, beside it, the videos and pictures it shows.

    python3 site.py OUT/site.pieces

`make site` writes OUT/site.pieces (tab-separated: a `profile NAME NOTE` line, then one line per built
piece: group, name, title, text, and the credit of its sound track when its video has one) and runs this.
Everything else comes from the piece's files in OUT: the
video, its poster, the two contact sheets, the training timelapse and its previews, the parameter stamps
(STAGE.params), the stage times (STAGE.seconds) and, where one exists, OUT/PIECE-score.json. The page has
no script or font from elsewhere; the site is written to OUT/site.part and renamed, never left half done.
"""
import datetime
import html
import json
import os
import shutil
import struct
import sys

PAGE_TITLE = "Remembered by a machine"
NUMBERS = ["no", "one", "two", "three", "four", "five", "six"]


def introduction(rooms):
    """The page's opening, saying only what the page shows: the gallery's pieces and the Plato room if built."""
    gallery = sum(len(shown) for group, _, _, shown in rooms if group == "gallery")
    portraits = any(group == "plato-david" for group, _, _, _ in rooms)
    rooms_text = []
    if gallery == 6:
        rooms_text.append("Six pieces go from the scale of nebulae to the scale of a wing")
    elif gallery:
        count = NUMBERS[gallery] if gallery < len(NUMBERS) else str(gallery)
        rooms_text.append(f"{count.capitalize()} of the gallery's six pieces {'is' if gallery == 1 else 'are'} built so far")
    if portraits:
        rooms_text.append(("the last room" if gallery else "this room") + " repeats an experiment with Plato and David")
    middle = "; ".join(rooms_text)
    return ("Each piece is a small generative adversarial network, trained on an ordinary CPU from a modest pile of "
            "pictures, then filmed as a slow walk through what it learned: every frame is a picture that never "
            "existed, drifting from one remembered shape to the next. "
            + (middle[0].upper() + middle[1:] + ". " if middle else "")
            + "Beside each video are the pictures the model learned from, pictures it makes, and its training as a "
            "timelapse.")
GROUPS = {
    "gallery": ("The gallery", None),
    "plato-david": ("Plato → David: an imitation of an imitation", (
        "After a paper on GANs in art: a model learns a face from 135 pictures of Plato, then learns David "
        "from only 15 pictures on top of what it knew. Plato's Republic calls art an imitation of an "
        "imitation; the third stage takes that at its word and teaches the David model with frames that the "
        "Plato model made. The pictures here are synthetic stand-ins: marble busts for Plato, bronze heads for "
        "David.")),
}
STAGES = [("pictures", "Pictures"), ("train", "Training"), ("project", "Projection"), ("sound", "Sound"), ("walk", "Walk"),
          ("video", "Video"), ("sheet", "Contact sheet"), ("timelapse", "Timelapse")]


def main():
    if len(sys.argv) != 2:
        print("usage: site.py OUT/site.pieces", file=sys.stderr)
        return 2
    manifest = os.path.abspath(sys.argv[1])
    out = os.path.dirname(manifest)
    profile, note, pieces = read_manifest(manifest)
    # The command that builds a piece into this page, with the profile and folder it was made with.
    settings = ([f"PROFILE={profile}"] if profile != "default" else []) + (
        [f"OUT={out}"] if out != os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", profile) else [])
    site, part = os.path.join(out, "site"), os.path.join(out, "site.part")
    shutil.rmtree(part, ignore_errors=True)
    os.makedirs(part)
    try:
        rooms = []
        for group, (heading, text) in GROUPS.items():
            shown = [gather(out, part, piece) for piece in pieces if piece["group"] == group]
            if shown:
                rooms.append((group, heading, text, shown))
        with open(os.path.join(part, "index.html"), "w", encoding="utf-8") as page:
            page.write(render(rooms, profile, note, " ".join(["make -C pipelines"] + settings + ["ocean site"])))
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise
    shutil.rmtree(site, ignore_errors=True)
    os.rename(part, site)
    return 0


def read_manifest(path):
    profile, note, pieces = "", "", []
    with open(path, encoding="utf-8") as file:
        for line in file:
            fields = [field.strip() for field in line.strip().split("\t")]
            if fields[0] == "profile":
                profile, note = fields[1], fields[2] if len(fields) > 2 else ""
            elif len(fields) in (4, 5):
                pieces.append(dict(zip(("group", "name", "title", "about", "sound"), fields + [""])))
    return profile, note, pieces


def gather(out, site, piece):
    """Copies a piece's media into the site and collects what the page says about it."""
    name = piece["name"]
    folder = os.path.join(out, name)
    os.makedirs(os.path.join(site, name))
    previews = sorted(f for f in os.listdir(os.path.join(folder, "preview")) if f.startswith("step-"))
    media = {"video.mp4": f"{name}.mp4", "poster.png": f"{name}/poster.png", "training.mp4": f"{name}-training.mp4",
             "training.png": f"{name}/preview/{previews[-1]}", "pictures.png": f"{name}/pictures.png",
             "generated.png": f"{name}-sheet.png"}
    for target, source in media.items():
        shutil.copyfile(os.path.join(out, source), os.path.join(site, name, target))
    params = {stage: read_text(os.path.join(folder, f"{stage}.params")).replace(out + "/", "") for stage, _ in STAGES}
    seconds = {}
    for stage, _ in STAGES:
        text = read_text(os.path.join(folder, f"{stage}.seconds"))
        if text:
            seconds[stage] = float(text)
    score_file = os.path.join(out, f"{name}-score.json")
    score = None
    if os.path.exists(score_file):
        with open(score_file, encoding="utf-8") as file:
            try:
                score = json.load(file)
            except ValueError as error:
                raise ValueError(f"not JSON ({error}): {score_file}") from None
    steps = [int(f[len("step-"):-len(".png")]) for f in previews]
    return {**piece, "params": params, "seconds": seconds, "score": score, "steps": steps,
            "built": os.path.getmtime(os.path.join(out, f"{name}.mp4")),
            "sizes": {f: png_size(os.path.join(site, name, f)) for f in media if f.endswith(".png")},
            "cells": grid_cells(params["sheet"])}


def read_text(path):
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except FileNotFoundError:
        return ""


def png_size(path):
    """Width and height from a PNG's header, so the page reserves each picture's space before it loads."""
    with open(path, "rb") as file:
        header = file.read(24)
    return struct.unpack(">II", header[16:24])


def grid_cells(sheet_params):
    """32 from a sheet stamp 'grid=8x4 ...'."""
    for word in sheet_params.split():
        if word.startswith("grid="):
            columns, rows = word[len("grid="):].split("x")
            return int(columns) * int(rows)
    return 0


def duration(seconds):
    """'4 min 42 s', with no-break spaces so that a line never ends between a number and its unit."""
    if seconds < 60:
        text = f"{seconds:.1f} s"
    else:
        minutes, rest = divmod(round(seconds), 60)
        text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min {rest} s"
    return text.replace(" ", "\u00a0")


def number(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def score_rows(score):
    """The figures of a `score --json` document a visitor can read, as (name, value) rows: the sliced
    Wasserstein distance per level and on average, the layout on thumbnails beside the pictures' own
    figures, near-copies and diversity (see the README's "Reading a score"). A document without those
    fields shows whatever plain values it holds."""
    rows = []
    for level in score.get("slicedWasserstein", []):
        rows.append((f"SWD at {level['width']}x{level['height']} (lower: closer)", number(level["distance"])))
    if "slicedWassersteinAverage" in score:
        rows.append(("SWD average", number(score["slicedWassersteinAverage"])))
    for level in score.get("layout", {}).get("levels", []):
        side = f"{level['side']}x{level['side']}"
        for name, key, own in (("precision", "precision", "trainingPrecision"), ("recall", "recall", "trainingRecall"),
                               ("nearest-neighbour ratio", "nearestNeighbourRatio", "trainingNearestNeighbourRatio")):
            if key in level:
                value = f"{level[key]:.2f}" + (f" (the pictures' own {level[own]:.2f})" if own in level else "")
                rows.append((f"layout {name}, {side} thumbnails", value))
    memorisation = score.get("memorisation", {})
    if "nearCopyShare" in memorisation:
        rows.append(("near-copies of training pictures", f"{100 * memorisation['nearCopyShare']:.1f}%"))
    if "medianRatio" in memorisation:
        rows.append(("nearest-neighbour ratio", number(memorisation["medianRatio"])))
    if "ratio" in score.get("diversity", {}):
        rows.append(("diversity (1: as varied as the pictures)", number(score["diversity"]["ratio"])))
    if not rows:
        rows = [(key, number(value)) for key, value in score.items() if not isinstance(value, (dict, list))]
    return rows


def e(text):
    return html.escape(str(text), quote=True)


def stamp(text):
    """A parameter stamp that wraps between its settings, not inside one (long paths may still wrap)."""
    return " ".join(f'<span class="setting">{e(word)}</span>' if len(word) < 32 else e(word) for word in text.split())


def render_piece(piece, heading_level):
    name, title = piece["name"], piece["title"]
    size = piece["sizes"]
    h = f"h{heading_level}"
    stage_names = dict(STAGES)
    built = datetime.datetime.fromtimestamp(piece["built"], datetime.timezone.utc).strftime("%-d %B %Y, %H:%M UTC")
    total = sum(piece["seconds"].values())
    breakdown = ", ".join(f"{stage_names[s].lower()} {duration(t)}" for s, t in piece["seconds"].items())
    build_line = f"Built {e(built)}" + (f" in {duration(total)} <span class=\"quiet\">({e(breakdown)})</span>"
                                        if piece["seconds"] else "")
    steps = piece["steps"]
    every = steps[1] - steps[0] if len(steps) > 1 else 0
    cells = piece["cells"]
    params = "\n".join(f"<dt>{e(label)}</dt><dd><code>{stamp(piece['params'][stage])}</code></dd>"
                       for stage, label in STAGES if piece["params"][stage])
    score = ""
    if piece["score"] is not None:
        rows = "\n".join(f"<tr><th scope=\"row\">{e(k)}</th><td>{e(v)}</td></tr>" for k, v in score_rows(piece["score"]))
        score = (f"<table class=\"score\"><caption>Score of the {e(title)} model "
                 f"(<code>score</code>)</caption>\n{rows}\n</table>")

    def image(file, alt):
        width, height = size[file]
        return f'<img src="{name}/{file}" alt="{e(alt)}" width="{width}" height="{height}" loading="lazy">'

    # Native controls for a page without script; the page's script swaps them for one Pause button
    # that does not cover the picture, and a Sound button for a video with a sound track (it starts muted,
    # as browsers play only muted videos on their own).
    def video(file, poster, label, sound=False):
        width, height = size[poster]
        return (f'<div class="frame"><video src="{name}/{file}" poster="{name}/{poster}" width="{width}" '
                f'height="{height}" autoplay muted loop playsinline controls preload="auto" '
                f'aria-label="{e(label)}"{" data-sound" if sound else ""}></video></div>')

    credit = f"<br>Sound: {e(piece['sound'])}." if piece["sound"] else ""

    return f"""
<article class="piece" id="{name}" aria-labelledby="{name}-title">
  <div class="stage">
    <div class="about">
      <{h} id="{name}-title">{e(title)}</{h}>
      <p>{e(piece["about"])}</p>
      <p class="built">{build_line}</p>
    </div>
    <div class="facts">
      <dl class="params" aria-label="Parameters of {e(title)}">{params}</dl>
      {score}
    </div>
    <figure class="film">
      {video("video.mp4", "poster.png", f"{title}: a walk through the model's latent space", bool(piece["sound"]))}
      <figcaption>{e(title)}: a walk through the latent space of a model trained on the pictures below;
        every frame is a new picture{"; the walk moves with its sound" if piece["sound"] else ""}.{credit}</figcaption>
    </figure>
  </div>
  <div class="studies">
    <figure>
      {image("pictures.png", f"Contact sheet of the first {cells} pictures the {title} model learned from")}
      <figcaption>What it learned from: the first {cells} training pictures.</figcaption>
    </figure>
    <figure>
      {image("generated.png", f"Contact sheet of {cells} pictures made by the {title} model")}
      <figcaption>What it makes: {cells} new pictures.</figcaption>
    </figure>
    <figure>
      {video("training.mp4", "training.png", f"{title}: training timelapse")}
      <figcaption>Training: {len(steps)} previews{f", one every {every} steps" if every else ""}, step {steps[0]}
        to {steps[-1]}.</figcaption>
    </figure>
  </div>
</article>"""


def render(rooms, profile, note, build_one):
    nav = "\n".join(f'<li><a href="#{p["name"]}">{e(p["title"])}</a></li>' for _, _, _, shown in rooms for p in shown)
    sections = []
    for group, heading, text, shown in rooms:
        intro = f"<p class=\"room-intro\">{e(text)}</p>" if text else ""
        pieces = "\n".join(render_piece(p, 3) for p in shown)
        sections.append(f"""
<section class="room" id="{group}" aria-labelledby="{group}-heading">
  <h2 id="{group}-heading">{e(heading)}</h2>
  {intro}
  {pieces}
</section>""")
    if not sections:
        sections.append(f'<p class="empty">No piece is built yet: <code>{e(build_one)}</code> '
                        "builds one and shows it here.</p>")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(PAGE_TITLE)} · mnemosyne</title>
<link rel="icon" href="data:,">
<style>{STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the pieces</a>
<header class="masthead">
  <p class="kicker">mnemosyne · data videos</p>
  <h1>{e(PAGE_TITLE)}</h1>
  <p class="lede">{e(introduction(rooms))}</p>
  <nav aria-label="Pieces"><ul>{nav}</ul></nav>
</header>
<main id="main">
{"".join(sections)}
</main>
<footer>
  <p>Made with the mnemosyne tools (<code>synth</code> or <code>ingest</code>, <code>train</code>,
    <code>walk</code>, <code>sample</code>, <code>encode</code>) by <code>make -C pipelines site</code>,
    profile <code>{e(profile)}</code>: {e(note)}. The videos loop muted; each has a button to pause it, and a
    piece with a sound track one to hear it.</p>
</footer>
<script>
// One Pause/Play button per video instead of controls over the picture; visitors who ask for less
// motion get still posters and start a video themselves.
const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
for (const video of document.querySelectorAll('video')) {{
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'toggle';
  const show = () => {{
    button.textContent = video.paused ? 'Play' : 'Pause';
    button.setAttribute('aria-label', button.textContent + ': ' + video.getAttribute('aria-label'));
  }};
  button.addEventListener('click', () => video.paused ? video.play() : video.pause());
  video.addEventListener('play', show);
  video.addEventListener('pause', show);
  video.controls = false;
  if (still) {{ video.autoplay = false; video.pause(); }}
  video.after(button);
  show();
  if (!video.hasAttribute('data-sound')) continue;
  const sound = document.createElement('button');
  sound.type = 'button';
  sound.className = 'toggle sound';
  const hear = () => {{
    sound.textContent = video.muted ? 'Sound on' : 'Sound off';
    sound.setAttribute('aria-pressed', String(!video.muted));
    sound.setAttribute('aria-label', sound.textContent + ': ' + video.getAttribute('aria-label'));
  }};
  sound.addEventListener('click', () => {{
    video.muted = !video.muted;
    if (!video.muted && video.paused) video.play();
  }});
  video.addEventListener('volumechange', hear);
  button.after(sound);
  hear();
}}
</script>
</body>
</html>
"""


STYLE = """
:root { color-scheme: dark; --ink: #ece8e1; --muted: #a9a297; --accent: #e0b872; --paper: #121212;
  --panel: #1b1a19; --line: #2e2c2a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink); line-height: 1.55;
  font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1, h2, h3 { font-family: Georgia, "DejaVu Serif", serif; font-weight: normal; line-height: 1.2; margin: 0 0 .5rem; }
h1 { font-size: clamp(2rem, 5vw, 3.4rem); }
h2 { font-size: clamp(1.5rem, 3.4vw, 2.2rem); color: var(--accent); }
h3 { font-size: 1.7rem; }
a { color: var(--accent); }
a:focus-visible, video:focus-visible { outline: 3px solid var(--accent); outline-offset: 3px; }
code { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: .85em; overflow-wrap: anywhere; }
.skip { position: absolute; left: -999px; top: 0; background: var(--accent); color: #000; padding: .5rem 1rem; }
.skip:focus { left: 0; }
.masthead, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 1.25rem; }
.masthead { padding-top: 3rem; padding-bottom: 1rem; }
.kicker { text-transform: uppercase; letter-spacing: .18em; font-size: .8rem; color: var(--muted); margin: 0 0 .4rem; }
.lede { max-width: 46rem; color: var(--ink); font-size: 1.08rem; }
nav ul { list-style: none; padding: 0; margin: 1.5rem 0 0; display: flex; flex-wrap: wrap; gap: .5rem; }
nav a { display: inline-block; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: 999px;
  text-decoration: none; color: var(--ink); font-size: .92rem; }
nav a:hover { border-color: var(--accent); color: var(--accent); }
.room { padding-top: 2.5rem; }
.room-intro { max-width: 46rem; color: var(--muted); }
.piece { background: var(--panel); border: 1px solid var(--line); border-radius: 14px; padding: 1.25rem;
  margin: 1.5rem 0 2.5rem; }
.stage { display: grid; grid-template-columns: minmax(0, 7fr) minmax(0, 5fr); grid-template-rows: auto 1fr;
  grid-template-areas: "film about" "film facts"; gap: 0 1.5rem; align-items: start; }
.film { grid-area: film; }
.about { grid-area: about; }
.facts { grid-area: facts; }
.frame { position: relative; }
.toggle { position: absolute; right: .5rem; bottom: .5rem; font: inherit; font-size: .8rem; color: var(--ink);
  background: rgba(0, 0, 0, .55); border: 1px solid rgba(255, 255, 255, .35); border-radius: 999px;
  padding: .15rem .7rem; cursor: pointer; opacity: .75; }
.toggle:hover, .toggle:focus-visible { opacity: 1; }
.toggle.sound { right: auto; left: .5rem; }
.toggle:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
figure { margin: 0; }
img, video { display: block; width: 100%; height: auto; background: #000; border-radius: 6px; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .45rem; }
.about p { margin: 0 0 .8rem; }
.built, .quiet { color: var(--muted); font-size: .9rem; }
.params { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem .9rem; margin: .6rem 0 1rem;
  font-size: .85rem; padding-top: .6rem; border-top: 1px solid var(--line); }
.params dt { color: var(--muted); }
.params dd { margin: 0; }
.setting { white-space: nowrap; }
.score { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; }
.score caption { text-align: left; color: var(--muted); padding-bottom: .3rem; }
.score th, .score td { text-align: left; padding: .2rem .9rem .2rem 0; border-top: 1px solid var(--line); font-weight: normal; }
.score td { font-variant-numeric: tabular-nums; }
.studies { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 2fr) minmax(0, 1fr); gap: 1rem;
  margin-top: 1.25rem; align-items: start; }
.empty { padding: 3rem 0; color: var(--muted); }
footer { color: var(--muted); font-size: .9rem; padding-top: 1rem; padding-bottom: 3rem; border-top: 1px solid var(--line); }
@media (max-width: 760px) {
  body { font-size: 16px; }
  .stage, .studies { grid-template-columns: minmax(0, 1fr); }
  .stage { grid-template-areas: "about" "film" "facts"; grid-template-rows: auto; }
  .params { margin-top: 1rem; }
  .piece { padding: .9rem; border-radius: 10px; }
  .masthead { padding-top: 2rem; }
}
"""

if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as error:  # a missing or unreadable file, a score file that is not JSON
        print(f"site.py: {error}", file=sys.stderr)
        sys.exit(1)
