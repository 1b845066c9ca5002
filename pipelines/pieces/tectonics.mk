# tectonics: plates "subducting each other, and occasionally colliding": cracked rock, ridges, lava in the rifts.
tectonics.title := Plate tectonics
tectonics.about := The ground is never finished. Cracked plates of rock, raised ridges and glowing rifts slide \
  under and over each other, melt and set again: what takes the earth millions of years takes the model's \
  memory a few seconds.
tectonics.kind     := tectonics
tectonics.pictures := $(PICTURES)
tectonics.size     := $(SIZE)
tectonics.seed     := 12
tectonics.steps    := $(STEPS)
tectonics.width    := $(WIDTH)
tectonics.arch     := $(ARCH)
tectonics.objective := $(OBJECTIVE)
tectonics.batch    := $(BATCH)
tectonics.frames   := $(FRAMES)
tectonics.fps      := 24
tectonics.keys     := $(KEYS)
tectonics.psi      := 0.9
tectonics.scale    := $(SCALE)
tectonics.sheet    := $(SHEET)
