# david-on-walk: the imitation of an imitation: the David model trained further on the frames of the
# Plato walk, pictures that were themselves made by a GAN.
david-on-walk.title := David on the Plato walk
david-on-walk.about := Stage three, the imitation of an imitation: the David model trained further on the frames \
  of the Plato walk, pictures that were themselves made by a model.
david-on-walk.from   := plato/walk.tns
david-on-walk.size   := $(SIZE)
david-on-walk.seed   := 23
david-on-walk.steps  := $(FINE_TUNE_STEPS)
david-on-walk.init   := $(OUT)/david/model.ckpt
david-on-walk.objective := $(OBJECTIVE)
david-on-walk.batch  := $(BATCH)
david-on-walk.frames := $(FRAMES)
david-on-walk.fps    := 24
david-on-walk.keys   := $(KEYS)
david-on-walk.psi    := 0.8
david-on-walk.scale  := $(SCALE)
david-on-walk.sheet  := $(SHEET)
