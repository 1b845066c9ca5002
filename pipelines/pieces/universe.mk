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
