# architecture: "Baroque, Roman, Gothic, Modern": facades morphing from one style into the next.
architecture.kind     := architecture
architecture.pictures := $(PICTURES)
architecture.size     := $(SIZE)
architecture.seed     := 15
architecture.steps    := $(STEPS)
architecture.width    := $(WIDTH)
architecture.batch    := $(BATCH)
architecture.frames   := $(FRAMES)
architecture.fps      := 24
architecture.keys     := $(KEYS)
architecture.psi      := 0.8
architecture.scale    := $(SCALE)
architecture.sheet    := $(SHEET)
