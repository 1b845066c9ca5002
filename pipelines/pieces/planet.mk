# planet: worlds "telling a story in their own way": continents, clouds, atmospheres, rings, on starry space.
planet.title := Planet
planet.about := Worlds changing as planets do over deep time: land drifts, clouds gather, ice spreads and \
  retreats, a ring appears around a globe hanging among the stars. Every frame is a planet that does not \
  exist.
planet.kind     := planet
planet.pictures := $(PICTURES)
planet.size     := $(SIZE)
planet.seed     := 14
planet.steps    := $(STEPS)
planet.width    := $(WIDTH)
planet.arch     := $(ARCH)
planet.objective := $(OBJECTIVE)
planet.batch    := $(BATCH)
planet.frames   := $(FRAMES)
planet.fps      := 24
planet.keys     := $(KEYS)
planet.psi      := 0.9
planet.scale    := $(SCALE)
planet.sheet    := $(SHEET)
