#!/usr/bin/env bash
# make-devset.sh DIR: builds voiced's own VAD development set, harder than ../shared/vad:
# speech in other voices and languages over real recorded music, game and TV-like sound,
# appliance and water noise, and level jumps; and a set of turns with pauses inside a
# sentence for the end-of-turn figures. 16 kHz mono PCM16, about 26 minutes.
#
#   DIR/labels.tsv  file start_ms end_ms (header first), as `voiced vad-eval DIR` reads it
#   DIR/turns.tsv   file a_start a_end b_start b_end: a sentence said in two parts with a
#                   pause of 300-700 ms between them, then silence (turns_*.wav only)
#
# Files are named SOURCE_CONDITION.wav (vad-eval pools conditions over sources): sources
# espeak (espeak-ng in 14 languages) and flite (four English voices); conditions:
#   music    recorded instrumental music: funnyboat's ogg track and two of pingus's
#            tracker songs rendered by xmp, at 0-6 dB under the speech
#   tv       the music through a small loudspeaker (band-limited, compressed), applause-like
#            noise bursts and pingus's game sounds (splashes, plops, ticks)
#   kitchen  a fridge's hum and its harmonics, an extractor fan, a blender switched on and
#            off, clatter
#   water    a running tap: band-passed noise with a slow, uneven flow
#   levels   the speech from -45 to -6 dBFS, pink noise stepping by 20 dB
# Every file begins with 4 s of its background alone and has 2-5 s gaps, so false alarms
# are measured on the background itself.
#
# Needs sox, espeak-ng, flite and xmp; downloads funnyboat and pingus-data with
# apt-get download (game data: GPL/Expat, used as test audio, never committed).
set -eu
dir=${1:?usage: make-devset.sh DIR}
for t in espeak-ng flite sox soxi xmp apt-get dpkg-deb; do
  command -v "$t" >/dev/null || {
    echo "make-devset: $t not installed" >&2
    exit 1
  }
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fmt=(-r 16000 -c 1 -b 16 -e signed-integer)
RANDOM=26 # the same set every time

(cd "$tmp" && apt-get download -q funnyboat pingus-data >/dev/null 2>&1) || {
  echo "make-devset: apt-get download funnyboat pingus-data failed" >&2
  exit 1
}
for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
games=$tmp/x/usr/share/games

# Backgrounds, 200 s each.
bed=200
sox -q "$games/funnyboat/data/JDruid-Trip_on_the_Funny_Boat.ogg" "${fmt[@]}" "$tmp/m1.wav" remix - norm -3
for s in pingus-1 rough_journey; do
  xmp -q -o "$tmp/$s.raw" -f 16000 --mono "$games/pingus/data/music/$s.it" >/dev/null 2>&1 || true
  sox -q -t raw -r 16000 -c 1 -b 16 -e signed-integer "$tmp/$s.raw" "${fmt[@]}" "$tmp/$s.wav" trim 0 70 norm -3
done
sox -q "$tmp/m1.wav" "$tmp/pingus-1.wav" "$tmp/rough_journey.wav" "${fmt[@]}" "$tmp/music.wav" trim 0 "$bed" norm -3

# TV-like: the music through a small speaker, applause-like bursts, game sounds.
sox -q "$tmp/music.wav" "$tmp/tvm.wav" sinc 250-5000 compand 0.02,0.2 6:-40,-20,-10 -6 -12 0.05 norm -6
sox -q -n "${fmt[@]}" "$tmp/clap.wav" synth "$bed" pinknoise tremolo 0.13 90 tremolo 11 60 highpass 600 norm -12
snd=()
for s in splash plop plop2 digger chink ting tick; do
  sox -q "$games/pingus/data/sounds/$s.wav" "${fmt[@]}" "$tmp/g-$s.wav" remix - norm -6
  snd+=("$tmp/g-$s.wav")
done
: >"$tmp/game.lst"
t=0
while [ "$t" -lt $((bed - 3)) ]; do
  g=$((RANDOM % 14 + 2))
  sox -q -n "${fmt[@]}" "$tmp/gap$t.wav" trim 0 "$g"
  echo "$tmp/gap$t.wav ${snd[RANDOM % ${#snd[@]}]}" >>"$tmp/game.lst"
  t=$((t + g + 1))
done
# shellcheck disable=SC2046
sox -q $(cat "$tmp/game.lst") "${fmt[@]}" "$tmp/game.wav"
sox -q -m "$tmp/tvm.wav" "$tmp/clap.wav" "$tmp/game.wav" "${fmt[@]}" "$tmp/tv.wav" trim 0 "$bed" norm -3

# Kitchen: fridge hum with harmonics, fan, a blender on and off, clatter.
sox -q -n "${fmt[@]}" "$tmp/hum.wav" synth "$bed" sine 100 sine 200 sine 300 remix - vol 0.3
sox -q -n "${fmt[@]}" "$tmp/fan.wav" synth "$bed" brownnoise lowpass 1200 tremolo 23 15 norm -12
sox -q -n "${fmt[@]}" "$tmp/blend.wav" synth "$bed" pinknoise tremolo 0.05 100 tremolo 47 40 bandpass 1800 1.2q norm -8
sox -q -m "$tmp/hum.wav" "$tmp/fan.wav" "$tmp/blend.wav" "$tmp/game.wav" "${fmt[@]}" "$tmp/kitchen.wav" trim 0 "$bed" norm -3

# Water: a tap, band-passed white noise whose flow wavers.
sox -q -n "${fmt[@]}" "$tmp/water.wav" synth "$bed" whitenoise bandpass 2500 0.7q tremolo 0.4 30 tremolo 7.3 25 norm -3

# Levels: pink noise stepping between -60 and -25 dBFS every 7-13 s.
: >"$tmp/lv.lst"
t=0
i=0
while [ "$t" -lt "$bed" ]; do
  g=$((RANDOM % 7 + 7))
  v=$((25 + (i % 3) * 17))
  sox -q -n "${fmt[@]}" "$tmp/lv$i.wav" synth "$g" pinknoise vol "-${v}dB"
  echo "$tmp/lv$i.wav" >>"$tmp/lv.lst"
  t=$((t + g))
  i=$((i + 1))
done
# shellcheck disable=SC2046
sox -q $(cat "$tmp/lv.lst") "${fmt[@]}" "$tmp/levels.wav" trim 0 "$bed"

# Utterances: N voice text pairs, synthesized, trimmed of leading and trailing silence.
espeak_lines=(
  "de|Kannst du bitte das Licht in der Küche ausschalten?"
  "fr-fr|Quel temps va-t-il faire demain matin à Lyon?"
  "es|Pon un temporizador de doce minutos, por favor."
  "it|Ricordami giovedì di chiamare il meccanico."
  "ru|Сколько граммов муки в одной чашке?"
  "pl|Dodaj jajka, mleko i masło do listy zakupów."
  "pt-br|Toque uma música calma e abaixe o volume."
  "nl|Hoe laat vertrekt de volgende trein naar Utrecht?"
  "sv|Stäng av radion när nyheterna är slut."
  "tr|Yarın sabah saat yedide beni uyandır."
  "cmn|今天晚上我们吃什么?"
  "hi|कल सुबह मौसम कैसा रहेगा?"
  "ja|明日の天気を教えてください。"
  "en-us+f3|What is the capital of Australia, and how far is it from Sydney?"
)
flite_lines=(
  "slt|Turn the heating down a little, it is getting warm in here."
  "awb|Read me the last message from my sister."
  "rms|How long do I boil an egg so that the yolk stays soft?"
  "kal16|Add a meeting with the dentist next Tuesday at three."
  "slt|Skip this song, I do not like it."
  "awb|Is the front door locked?"
  "rms|Tell me a short story about a fox and a crow."
  "kal16|What time does the pharmacy close on Saturday?"
)

# trim16 IN OUT: 16 kHz mono s16 without leading or trailing silence.
trim16() {
  sox -q "$1" "${fmt[@]}" "$2" silence 1 0.02 -45d reverse silence 1 0.02 -45d reverse
}

# say SOURCE I OUT: utterance I of SOURCE's list, raw.
say() {
  local line voice text
  if [ "$1" = espeak ]; then line=${espeak_lines[$2 % ${#espeak_lines[@]}]}; else line=${flite_lines[$2 % ${#flite_lines[@]}]}; fi
  voice=${line%%|*}
  text=${line#*|}
  if [ "$1" = espeak ]; then
    espeak-ng -v "$voice" -s $((140 + RANDOM % 40)) -w "$tmp/raw.wav" "$text"
  else
    flite -voice "$voice" -t "$text" -o "$tmp/raw.wav"
  fi
  trim16 "$tmp/raw.wav" "$3"
}

ms() { awk -v d="$(soxi -D "$1")" 'BEGIN { printf "%d", d * 1000 + 0.5 }'; }

labels=$dir/labels.tsv
printf 'file\tstart_ms\tend_ms\n' >"$labels"

# build SOURCE CONDITION: 14 utterances over the condition's background.
build() {
  local src=$1 cond=$2 name="$1_$2.wav" t=4000 i lst=() speech=-6 level
  sox -q -n "${fmt[@]}" "$tmp/lead.wav" trim 0 4
  lst+=("$tmp/lead.wav")
  for i in $(seq 0 13); do
    say "$src" "$i" "$tmp/u$i.wav"
    # Each utterance at its own level: -6..-12 dBFS peak, for levels -6..-45.
    level=$((6 + RANDOM % 7))
    [ "$cond" = levels ] && level=$((6 + (i % 4) * 13))
    sox -q "$tmp/u$i.wav" "$tmp/v$i.wav" gain -n "-$level"
    d=$(ms "$tmp/v$i.wav")
    printf '%s\t%d\t%d\n' "$name" "$t" $((t + d)) >>"$labels"
    g=$((2000 + RANDOM % 3000))
    sox -q -n "${fmt[@]}" "$tmp/g$i.wav" trim 0 "0.$(printf %03d $((g % 1000)))" pad 0 $((g / 1000))
    lst+=("$tmp/v$i.wav" "$tmp/g$i.wav")
    t=$((t + d + $(ms "$tmp/g$i.wav")))
  done
  sox -q "${lst[@]}" "${fmt[@]}" "$tmp/speech.wav"
  len=$(soxi -D "$tmp/speech.wav")
  # The background starts somewhere different for each source.
  off=$((RANDOM % 40))
  case $cond in
  music) bg=-6 ;; tv) bg=-8 ;; kitchen) bg=-10 ;; water) bg=-14 ;; levels) bg=0 ;;
  esac
  sox -q "$tmp/$cond.wav" "$tmp/bg.wav" trim "$off" "$len" gain "$bg"
  sox -q -m -v 1 "$tmp/speech.wav" -v 1 "$tmp/bg.wav" "${fmt[@]}" "$dir/$name" gain "$speech"
}

for src in espeak flite; do
  for cond in music tv kitchen water levels; do
    build "$src" "$cond"
  done
done

# Turns: a sentence in two parts with a pause of 300-700 ms inside, then 3 s of room.
parts=(
  "Set a timer|for twelve minutes"
  "What is the weather|like in Berlin tomorrow"
  "Play some music|by the Beatles please"
  "Remind me to call|my mother at six"
  "Turn off the lights|in the living room"
  "How far is the moon|from the earth"
  "Add milk and eggs|to the shopping list"
  "Tell me a joke|about penguins"
  "When does the bakery|open on Sunday"
  "Call the garage|about the brakes"
)
voices=(en-us en-gb en-us+f3 en-gb-scotland en-029 en-gb-x-rp+f2)
turns=$dir/turns.tsv
: >"$turns"
for room in quiet kitchen; do
  name="turns_$room.wav"
  lst=()
  sox -q -n "${fmt[@]}" "$tmp/lead.wav" trim 0 2
  lst+=("$tmp/lead.wav")
  t=2000
  for i in $(seq 0 59); do
    p=${parts[i % ${#parts[@]}]}
    v=${voices[i % ${#voices[@]}]}
    s=$((140 + RANDOM % 40))
    espeak-ng -v "$v" -s "$s" -w "$tmp/ra.wav" "${p%%|*}"
    espeak-ng -v "$v" -s "$s" -w "$tmp/rb.wav" "${p#*|}"
    trim16 "$tmp/ra.wav" "$tmp/a$i.wav"
    trim16 "$tmp/rb.wav" "$tmp/b$i.wav"
    pause=$((300 + RANDOM % 401))
    sox -q -n "${fmt[@]}" "$tmp/p$i.wav" trim 0 "0.$(printf %03d "$pause")"
    sox -q -n "${fmt[@]}" "$tmp/e$i.wav" trim 0 3
    da=$(ms "$tmp/a$i.wav")
    dp=$(ms "$tmp/p$i.wav")
    db=$(ms "$tmp/b$i.wav")
    printf '%s\t%d\t%d\n%s\t%d\t%d\n' "$name" "$t" $((t + da)) "$name" $((t + da + dp)) $((t + da + dp + db)) >>"$labels"
    printf '%s\t%d\t%d\t%d\t%d\n' "$name" "$t" $((t + da)) $((t + da + dp)) $((t + da + dp + db)) >>"$turns"
    lst+=("$tmp/a$i.wav" "$tmp/p$i.wav" "$tmp/b$i.wav" "$tmp/e$i.wav")
    t=$((t + da + dp + db + $(ms "$tmp/e$i.wav")))
  done
  sox -q "${lst[@]}" "${fmt[@]}" "$tmp/speech.wav" gain -n -8
  len=$(soxi -D "$tmp/speech.wav")
  if [ "$room" = quiet ]; then
    sox -q -n "${fmt[@]}" "$tmp/bg.wav" synth "$len" brownnoise vol -58dB
  else
    sox -q "$tmp/kitchen.wav" "$tmp/bg.wav" repeat 3 trim 0 "$len" gain -16
  fi
  sox -q -m "$tmp/speech.wav" "$tmp/bg.wav" "${fmt[@]}" "$dir/$name"
done
echo "make-devset: $(wc -l <"$labels") labels, $(wc -l <"$turns") turns in $dir"
