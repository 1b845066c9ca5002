# architecture: "Baroque, Roman, Gothic, Modern": facades morphing from one style into the next.
architecture.title := Architecture
architecture.about := Buildings keep the memory of their age in their geometry and ornament. Here facades slide \
  from one style into another, arches into towers into grids of glass, as if the history of building were \
  replayed out of order.
architecture.kind     := architecture
architecture.pictures := $(PICTURES)
architecture.size     := $(SIZE)
architecture.seed     := 15
architecture.steps    := $(STEPS)
architecture.width    := $(WIDTH)
architecture.arch     := $(ARCH)
architecture.objective := $(OBJECTIVE)
architecture.batch    := $(BATCH)
architecture.frames   := $(FRAMES)
architecture.fps      := 24
architecture.keys     := $(KEYS)
architecture.psi      := 0.8
architecture.scale    := $(SCALE)
architecture.sheet    := $(SHEET)
