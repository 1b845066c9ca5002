# universe: "the pulse and breath of the night": nebulae, star fields and galaxies, drifting slowly.
universe.title := Universe
universe.about := The night sky as a living thing: nebulae, star fields and spiral galaxies swell and fade as if the \
  dark were breathing. The network has never looked up; it learned the sky from pictures and recalls it \
  slowly, one cloud of light dissolving into the next.
universe.kind     := universe
universe.pictures := $(PICTURES)
universe.size     := $(SIZE)
universe.seed     := 11
universe.steps    := $(STEPS)
universe.width    := $(WIDTH)
universe.arch     := $(ARCH)
universe.objective := $(OBJECTIVE)
# The perceptual weight of 0.1 keeps the stars: at train's 0.03 the default profile's model lost them
# (feature precision 0.02 against 0.43 at 0.1) for no better layout (8x8 recall 0.59 against 0.58).
universe.coverage := $(COVERAGE) --perceptual 0.1
universe.batch    := $(BATCH)
universe.frames   := $(FRAMES)
universe.fps      := 24
universe.keys     := $(KEYS)
universe.psi      := 0.9
universe.scale    := $(SCALE)
universe.sheet    := $(SHEET)
# Its own sound, a slow pulse and a breath, generated from its seed: the walk hurries with the loudness and
# is pushed on every beat. Set a file of yours instead (universe.audio := song.flac), and universe.soundtrack
# to credit it on the page.
universe.audio    := synth
