# tectonics: plates "subducting each other, and occasionally colliding": cracked rock, ridges, lava in the rifts.
tectonics.kind     := tectonics
tectonics.pictures := $(PICTURES)
tectonics.size     := $(SIZE)
tectonics.seed     := 12
tectonics.steps    := $(STEPS)
tectonics.width    := $(WIDTH)
tectonics.batch    := $(BATCH)
tectonics.frames   := $(FRAMES)
tectonics.fps      := 24
tectonics.keys     := $(KEYS)
tectonics.psi      := 0.9
tectonics.scale    := $(SCALE)
tectonics.sheet    := $(SHEET)
