# plato: the first stage of the paper's experiment: about 135 pictures of Plato (here marble busts),
# trained from scratch (2000 steps in the gallery profile).
plato.title := Plato
plato.about := Stage one: a model trained from scratch on pictures of Plato (here pale marble busts). Its walk \
  drifts between heads that were never carved.
plato.kind     := plato
plato.pictures := $(PLATO_PICTURES)
plato.size     := $(SIZE)
plato.seed     := 21
plato.steps    := $(PLATO_STEPS)
plato.width    := $(WIDTH)
plato.arch     := $(ARCH)
plato.objective := $(OBJECTIVE)
plato.batch    := $(BATCH)
plato.frames   := $(FRAMES)
plato.fps      := 24
plato.keys     := $(KEYS)
plato.psi      := 0.8
plato.scale    := $(SCALE)
plato.sheet    := $(SHEET)
