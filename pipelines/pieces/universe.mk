# universe: "the pulse and breath of the night": nebulae, star fields and galaxies, drifting slowly.
universe.kind     := universe
universe.pictures := $(PICTURES)
universe.size     := $(SIZE)
universe.seed     := 11
universe.steps    := $(STEPS)
universe.width    := $(WIDTH)
universe.batch    := $(BATCH)
universe.frames   := $(FRAMES)
universe.fps      := 24
universe.keys     := $(KEYS)
universe.psi      := 0.9
universe.scale    := $(SCALE)
universe.sheet    := $(SHEET)
