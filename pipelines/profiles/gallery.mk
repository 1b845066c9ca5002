# gallery: what an artist would exhibit: 128x128 models trained for thousands of steps, 30-second
# loops upscaled to 512x512. About 30 minutes per piece on a 2-core CPU (fastgan at 128 pixels takes about 0.35 s a step); run one piece at a time, or overnight.
SIZE            := 128
PICTURES        := 400
PLATO_PICTURES  := 135
DAVID_PICTURES  := 15
STEPS           := 5000
PLATO_STEPS     := 3000
FINE_TUNE_STEPS := 800
ARCH            := fastgan
OBJECTIVE       := imle
WIDTH           := 16
BATCH           := 16
FRAMES          := 900
PROJECT_STEPS   := 200
HOLD            := 24
KEYS            := 12
SCALE           := 4
CRF             := 18
SHEET           := 8x8
SHEET_SCALE     := 2
PREVIEW_EVERY   := 50
TIMELAPSE_FPS   := 8
PROFILE_NOTE    := 128x128, fastgan, 5000 steps each: about 30 minutes per piece, 3 hours for the six, on a 2-core CPU
