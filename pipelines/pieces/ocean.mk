# ocean: "95% of the ocean is unexplored": surfaces under changing skies, and depths with light shafts.
ocean.title := Ocean
ocean.about := Most of the sea has never been seen by anyone. Bright surfaces under shifting skies give way to \
  blue depths crossed by shafts of light: a sea remembered by a machine that learned it from a small pile of \
  pictures, and fills what it has not seen with guesses.
ocean.kind     := ocean
ocean.pictures := $(PICTURES)
ocean.size     := $(SIZE)
ocean.seed     := 13
ocean.steps    := $(STEPS)
ocean.width    := $(WIDTH)
ocean.arch     := $(ARCH)
ocean.objective := $(OBJECTIVE)
ocean.batch    := $(BATCH)
ocean.frames   := $(FRAMES)
ocean.fps      := 24
ocean.keys     := $(KEYS)
ocean.psi      := 0.85
ocean.scale    := $(SCALE)
ocean.sheet    := $(SHEET)
