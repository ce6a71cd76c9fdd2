#!/usr/bin/env bash
# Makes the four 16 kHz mono PCM16 test recordings of package silero from Debian
# packages: espeak-ng (speech), sox (noise, and the mixing) and funnyboat's music
# track (Expat licence, (c) 2006 Joona Karjalainen). They are committed; the
# reference probabilities come from gen-reference.mjs.
#
#   apt-get install sox espeak-ng && apt-get download funnyboat
#   sh testdata/gen-wavs.sh funnyboat_*.deb
set -eu
deb=$1
out=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fmt=(-r 16000 -c 1 -b 16 -e signed-integer)

# speech: sentences in four voices with pauses of 0.3-2 s; the second half over
# pink noise at about 10 dB SNR.
i=0
for v in en-us en-gb en-gb-scotland en-us+f3 en-gb-x-rp en-us+m4 en-gb+f2 en-us; do
  i=$((i + 1))
  case $i in
  1) t="The kitchen light is still on, could you turn it off before you go to bed." ;;
  2) t="What is the weather going to be like tomorrow morning in the north of the city?" ;;
  3) t="Set a timer for twelve minutes. The pasta needs a little longer than the sauce." ;;
  4) t="Play something quiet, please, and lower the volume a bit." ;;
  5) t="Remind me on Thursday to call the garage about the brakes." ;;
  6) t="How many grams of flour are there in a cup?" ;;
  7) t="Stop. That is enough for now, thank you very much." ;;
  8) t="Add eggs, milk, butter and two lemons to the shopping list." ;;
  esac
  espeak-ng -v "$v" -s 150 -w "$tmp/s$i.wav" "$t"
  sox "$tmp/s$i.wav" "${fmt[@]}" "$tmp/r$i.wav" norm -3
  sox -n "${fmt[@]}" "$tmp/p$i.wav" trim 0 "0.$((3 + i % 7))"
  [ $((i % 3)) -eq 0 ] && sox -n "${fmt[@]}" "$tmp/p$i.wav" trim 0 1.8
done
sox -n "${fmt[@]}" "$tmp/lead.wav" trim 0 1.2
sox "$tmp/lead.wav" "$tmp/r1.wav" "$tmp/p1.wav" "$tmp/r2.wav" "$tmp/p2.wav" "$tmp/r3.wav" "$tmp/p3.wav" "$tmp/r4.wav" "$tmp/p4.wav" "$tmp/clean.wav"
sox "$tmp/r5.wav" "$tmp/p5.wav" "$tmp/r6.wav" "$tmp/p6.wav" "$tmp/r7.wav" "$tmp/p7.wav" "$tmp/r8.wav" "$tmp/p8.wav" "$tmp/second.wav"
len=$(soxi -D "$tmp/second.wav")
sox -n "${fmt[@]}" "$tmp/pink.wav" synth "$len" pinknoise vol -23dB
sox -m "$tmp/second.wav" "$tmp/pink.wav" "$tmp/noisy.wav"
sox "$tmp/clean.wav" "$tmp/noisy.wav" "$tmp/lead.wav" "${fmt[@]}" "$out/speech.wav"

# silence: a quiet room, brown noise near -70 dBFS with a faint mains hum.
sox -n "${fmt[@]}" "$tmp/b.wav" synth 32 brownnoise vol -62dB
sox -n "${fmt[@]}" "$tmp/h.wav" synth 32 sine 50 vol -72dB
sox -m "$tmp/b.wav" "$tmp/h.wav" "${fmt[@]}" "$out/silence.wav"

# noise: white, pink and brown noise, level jumps of 20-30 dB, a hum and a chirp.
sox -n "${fmt[@]}" "$tmp/n1.wav" synth 8 whitenoise vol -30dB
sox -n "${fmt[@]}" "$tmp/n2.wav" synth 6 pinknoise vol -8dB
sox -n "${fmt[@]}" "$tmp/n3.wav" synth 6 brownnoise vol -40dB
sox -n "${fmt[@]}" "$tmp/n4.wav" synth 4 whitenoise vol -12dB
sox -n "${fmt[@]}" "$tmp/n5.wav" synth 5 sine 100-3000 vol -20dB
sox -n "${fmt[@]}" "$tmp/n6.wav" synth 4 pinknoise vol -25dB synth 4 sine amod 3
sox "$tmp/n1.wav" "$tmp/n2.wav" "$tmp/n3.wav" "$tmp/n4.wav" "$tmp/n5.wav" "$tmp/n6.wav" "${fmt[@]}" "$out/noise.wav"

# music: 32 s of a recorded instrumental track.
dpkg-deb -x "$deb" "$tmp/deb"
sox "$tmp/deb/usr/share/games/funnyboat/data/JDruid-Trip_on_the_Funny_Boat.ogg" "${fmt[@]}" "$out/music.wav" remix - trim 20 32 norm -6
