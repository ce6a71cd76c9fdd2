#!/usr/bin/env bash
# make-devset.sh DIR [MINUTES]: builds a wake-word development set for `voiced wake-eval`.
#
# Positives: "okay nabu", "hey jarvis", "hey mycroft", "alexa" said by espeak-ng (six voices),
# flite (four voices) and festival (kal_diphone) at three speeds, each clean and in a
# "noisy room" (reverb plus pink noise at about 10 dB SNR), 1 s before and after.
# Negatives: about MINUTES (default 120) of audio without the words: licence texts read by
# espeak-ng and flite voices (clean and noisy), coloured noise and synthetic tonal
# "music". DIR/wake.tsv lists every file: `file word start_ms end_ms`, `file - - -`.
#
# Needs espeak-ng, flite, festival (with festvox-kallpc16k) and sox from Debian.
set -eu
dir=${1:?usage: make-devset.sh DIR [MINUTES]}
minutes=${2:-120}
for t in espeak-ng flite text2wave sox soxi; do
  command -v "$t" >/dev/null || {
    echo "make-devset: $t not installed" >&2
    exit 1
  }
done
mkdir -p "$dir/pos" "$dir/neg"
tsv="$dir/wake.tsv"
: >"$tsv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# to16k IN OUT: 16 kHz mono s16, peak-normalised to -3 dBFS.
to16k() { sox -q "$1" -r 16000 -c 1 -b 16 -e signed-integer "$2" gain -n -3; }

# place RAW OUT COND: 1 s lead-in and tail; COND clean or noisy. Prints the phrase length in ms.
place() {
  if [ "$3" = noisy ]; then
    sox -q "$1" "$tmp/rev.wav" reverb 40 50 60 gain -n -3
  else
    cp "$1" "$tmp/rev.wav"
  fi
  sox -q "$tmp/rev.wav" "$tmp/padded.wav" pad 1 1
  if [ "$3" = noisy ]; then
    d=$(soxi -D "$tmp/padded.wav")
    sox -R -q -n -r 16000 -c 1 -b 16 "$tmp/noise.wav" synth "$d" pinknoise vol 0.12
    sox -q -m "$tmp/padded.wav" "$tmp/noise.wav" -b 16 "$2"
  else
    cp "$tmp/padded.wav" "$2"
  fi
  awk -v d="$(soxi -D "$1")" 'BEGIN { printf "%d", d * 1000 + 0.5 }'
}

words="okay_nabu hey_jarvis hey_mycroft alexa"
say_text() { echo "$1" | tr _ ' '; }

# Positives.
for w in $words; do
  text=$(say_text "$w")
  for v in en-us en-us+f3 en-gb en-gb-x-rp+f2 en-gb-scotland en-029; do
    for s in 130 160 190; do
      espeak-ng -v "$v" -s "$s" -w "$tmp/raw.wav" "$text"
      to16k "$tmp/raw.wav" "$tmp/p.wav"
      for c in clean noisy; do
        src="espeak-$(echo "$v" | tr + -)"
        mkdir -p "$dir/pos/$src"
        f="pos/$src/$w-$s-$c.wav"
        ms=$(place "$tmp/p.wav" "$dir/$f" "$c")
        printf '%s\t%s\t%d\t%d\n' "$f" "$w" 1000 $((1000 + ms)) >>"$tsv"
      done
    done
  done
  for v in kal awb rms slt; do
    for s in 0.8 1.0 1.25; do
      flite -voice "$v" --setf duration_stretch="$s" -t "$text" -o "$tmp/raw.wav"
      to16k "$tmp/raw.wav" "$tmp/p.wav"
      for c in clean noisy; do
        mkdir -p "$dir/pos/flite-$v"
        f="pos/flite-$v/$w-$s-$c.wav"
        ms=$(place "$tmp/p.wav" "$dir/$f" "$c")
        printf '%s\t%s\t%d\t%d\n' "$f" "$w" 1000 $((1000 + ms)) >>"$tsv"
      done
    done
  done
  for s in 0.8 1.0 1.25; do
    echo "$text" >"$tmp/t.txt"
    text2wave -eval "(Parameter.set 'Duration_Stretch $s)" -o "$tmp/raw.wav" "$tmp/t.txt"
    to16k "$tmp/raw.wav" "$tmp/p.wav"
    for c in clean noisy; do
      mkdir -p "$dir/pos/festival-kal"
      f="pos/festival-kal/$w-$s-$c.wav"
      ms=$(place "$tmp/p.wav" "$dir/$f" "$c")
      printf '%s\t%s\t%d\t%d\n' "$f" "$w" 1000 $((1000 + ms)) >>"$tsv"
    done
  done
done

# Negatives: speech. Licence texts in chunks of about 150 words, no wake word in them.
budget=$((minutes * 60))
total=0
add_neg() { # FILE: lists it and adds its length to the total
  printf '%s\t-\t-\t-\n' "$1" >>"$tsv"
  total=$((total + $(soxi -D "$dir/$1" | cut -d. -f1)))
}
cat /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 /usr/share/common-licenses/MPL-2.0 \
  /usr/share/common-licenses/LGPL-2.1 /usr/share/common-licenses/GFDL-1.3 /usr/share/common-licenses/Artistic |
  tr -s ' \t\n' ' ' | fold -s -w 900 >"$tmp/chunks.txt"
n=0
voices=(espeak:en-us espeak:en-gb+f3 flite:slt espeak:en-gb-scotland flite:kal espeak:en-029+f2 flite:awb espeak:en-us+m3 flite:rms)
mkdir -p "$dir/neg/speech"
while IFS= read -r chunk && [ "$total" -lt $((budget * 3 / 4)) ]; do
  n=$((n + 1))
  vv=${voices[(n - 1) % ${#voices[@]}]}
  printf '%s\n' "$chunk" >"$tmp/chunk.txt" # from a file: a chunk may start with "-"
  case $vv in
  espeak:*) espeak-ng -v "${vv#espeak:}" -s 165 -w "$tmp/raw.wav" -f "$tmp/chunk.txt" ;;
  flite:*) flite -voice "${vv#flite:}" -f "$tmp/chunk.txt" -o "$tmp/raw.wav" ;;
  esac
  to16k "$tmp/raw.wav" "$tmp/p.wav"
  c=clean
  [ $((n % 4)) -eq 0 ] && c=noisy
  f="neg/speech/$(printf %04d $n)-$(echo "${vv#*:}" | tr + -)-$c.wav"
  place "$tmp/p.wav" "$dir/$f" "$c" >/dev/null
  add_neg "$f"
done <"$tmp/chunks.txt"

# Negatives: noise and tones, one-minute files, for the rest of the budget.
mkdir -p "$dir/neg/noise" "$dir/neg/music"
i=0
while [ "$total" -lt "$budget" ]; do
  i=$((i + 1))
  case $((i % 4)) in
  0)
    f="neg/noise/$i-pink.wav"
    sox -R -q -n -r 16000 -c 1 -b 16 "$dir/$f" synth 60 pinknoise tremolo 0.3 60 vol 0.3
    ;;
  1)
    f="neg/noise/$i-brown.wav"
    sox -R -q -n -r 16000 -c 1 -b 16 "$dir/$f" synth 60 brownnoise vol 0.4
    ;;
  2)
    f="neg/music/$i-sweep.wav"
    sox -R -q -n -r 16000 -c 1 -b 16 "$dir/$f" synth 60 sine 200-1200 sine 300-900 tremolo 5 40 vol 0.3
    ;;
  3)
    f="neg/music/$i-pluck.wav"
    sox -R -q -n -r 16000 -c 1 -b 16 "$dir/$f" synth 60 pluck 220 pluck 277 pluck 330 tremolo 3 60 vol 0.4
    ;;
  esac
  add_neg "$f"
done
echo "make-devset: $(grep -vc '	-	' "$tsv") positives, $total s of negatives in $dir"
