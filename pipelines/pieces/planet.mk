# planet: worlds "telling a story in their own way": continents, clouds, atmospheres, rings, on starry space.
planet.kind     := planet
planet.pictures := $(PICTURES)
planet.size     := $(SIZE)
planet.seed     := 14
planet.steps    := $(STEPS)
planet.width    := $(WIDTH)
planet.batch    := $(BATCH)
planet.frames   := $(FRAMES)
planet.fps      := 24
planet.keys     := $(KEYS)
planet.psi      := 0.9
planet.scale    := $(SCALE)
planet.sheet    := $(SHEET)
