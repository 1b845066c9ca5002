# butterfly: "flying works of art": symmetric wings changing shape, pattern and colour.
butterfly.kind     := butterfly
butterfly.pictures := $(PICTURES)
butterfly.size     := $(SIZE)
butterfly.seed     := 16
butterfly.steps    := $(STEPS)
butterfly.width    := $(WIDTH)
butterfly.batch    := $(BATCH)
butterfly.frames   := $(FRAMES)
butterfly.fps      := 24
butterfly.keys     := $(KEYS)
butterfly.psi      := 0.85
butterfly.scale    := $(SCALE)
butterfly.sheet    := $(SHEET)
