# butterfly: "flying works of art": symmetric wings changing shape, pattern and colour.
butterfly.title := Butterflies
butterfly.about := Wings as designs of nature: symmetric shapes whose outline, pattern and colour keep changing, \
  one species turning into another that never lived, evolution run in seconds instead of ages.
butterfly.kind     := butterfly
butterfly.pictures := $(PICTURES)
butterfly.size     := $(SIZE)
butterfly.seed     := 16
butterfly.steps    := $(STEPS)
butterfly.width    := $(WIDTH)
butterfly.arch     := $(ARCH)
butterfly.objective := $(OBJECTIVE)
butterfly.batch    := $(BATCH)
butterfly.frames   := $(FRAMES)
butterfly.fps      := 24
butterfly.keys     := $(KEYS)
butterfly.psi      := 0.85
butterfly.scale    := $(SCALE)
butterfly.sheet    := $(SHEET)
