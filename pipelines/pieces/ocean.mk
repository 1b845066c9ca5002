# ocean: "95% of the ocean is unexplored": surfaces under changing skies, and depths with light shafts.
ocean.kind     := ocean
ocean.pictures := $(PICTURES)
ocean.size     := $(SIZE)
ocean.seed     := 13
ocean.steps    := $(STEPS)
ocean.width    := $(WIDTH)
ocean.batch    := $(BATCH)
ocean.frames   := $(FRAMES)
ocean.fps      := 24
ocean.keys     := $(KEYS)
ocean.psi      := 0.85
ocean.scale    := $(SCALE)
ocean.sheet    := $(SHEET)
