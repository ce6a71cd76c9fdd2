/*
 * abicheck prints the sizes, field offsets, bit positions, constants and ioctl numbers of
 * <sound/asound.h> that internal/alsa mirrors, one per line, in the order the Go side
 * prints its own (abi_linux_test.go). Built with gcc, aarch64-linux-gnu-gcc and
 * arm-linux-gnueabihf-gcc (default time_t, as the Go structs use unix.Timespec); its
 * output per architecture is checked in as abi_<GOARCH>.txt.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sound/asound.h>

#define SIZE(t) printf("size %s %zu\n", #t, sizeof(struct t))
#define OFF(t, f) printf("offset %s.%s %zu\n", #t, #f, offsetof(struct t, f))
#define IOC(n) printf("ioctl %s 0x%08lx\n", #n, (unsigned long)(n))
#define CONST(n) printf("const %s %ld\n", #n, (long)(n))

static int bit_of(struct snd_interval *i) {
	unsigned int w;
	memcpy(&w, (char *)i + 2 * sizeof(unsigned int), sizeof w);
	for (int b = 0; b < 32; b++)
		if (w == 1u << b)
			return b;
	return -1;
}

#define BIT(f) do { struct snd_interval i; memset(&i, 0, sizeof i); i.f = 1; \
	printf("bit snd_interval.%s %d\n", #f, bit_of(&i)); } while (0)

int main(void) {
	SIZE(snd_interval);
	OFF(snd_interval, min);
	OFF(snd_interval, max);
	BIT(openmin);
	BIT(openmax);
	BIT(integer);
	BIT(empty);
	SIZE(snd_mask);

	SIZE(snd_pcm_hw_params);
	OFF(snd_pcm_hw_params, flags);
	OFF(snd_pcm_hw_params, masks);
	OFF(snd_pcm_hw_params, mres);
	OFF(snd_pcm_hw_params, intervals);
	OFF(snd_pcm_hw_params, ires);
	OFF(snd_pcm_hw_params, rmask);
	OFF(snd_pcm_hw_params, cmask);
	OFF(snd_pcm_hw_params, info);
	OFF(snd_pcm_hw_params, msbits);
	OFF(snd_pcm_hw_params, rate_num);
	OFF(snd_pcm_hw_params, rate_den);
	OFF(snd_pcm_hw_params, fifo_size);
	OFF(snd_pcm_hw_params, reserved);

	SIZE(snd_pcm_sw_params);
	OFF(snd_pcm_sw_params, tstamp_mode);
	OFF(snd_pcm_sw_params, period_step);
	OFF(snd_pcm_sw_params, sleep_min);
	OFF(snd_pcm_sw_params, avail_min);
	OFF(snd_pcm_sw_params, xfer_align);
	OFF(snd_pcm_sw_params, start_threshold);
	OFF(snd_pcm_sw_params, stop_threshold);
	OFF(snd_pcm_sw_params, silence_threshold);
	OFF(snd_pcm_sw_params, silence_size);
	OFF(snd_pcm_sw_params, boundary);
	OFF(snd_pcm_sw_params, proto);
	OFF(snd_pcm_sw_params, tstamp_type);
	OFF(snd_pcm_sw_params, reserved);

	SIZE(snd_pcm_status);
	OFF(snd_pcm_status, state);
	OFF(snd_pcm_status, pad1);
	OFF(snd_pcm_status, trigger_tstamp);
	OFF(snd_pcm_status, tstamp);
	OFF(snd_pcm_status, appl_ptr);
	OFF(snd_pcm_status, hw_ptr);
	OFF(snd_pcm_status, delay);
	OFF(snd_pcm_status, avail);
	OFF(snd_pcm_status, avail_max);
	OFF(snd_pcm_status, overrange);
	OFF(snd_pcm_status, suspended_state);
	OFF(snd_pcm_status, audio_tstamp_data);
	OFF(snd_pcm_status, audio_tstamp);
	OFF(snd_pcm_status, driver_tstamp);
	OFF(snd_pcm_status, audio_tstamp_accuracy);
	OFF(snd_pcm_status, reserved);

	SIZE(snd_xferi);
	OFF(snd_xferi, result);
	OFF(snd_xferi, buf);
	OFF(snd_xferi, frames);

	SIZE(snd_pcm_info);
	OFF(snd_pcm_info, device);
	OFF(snd_pcm_info, subdevice);
	OFF(snd_pcm_info, stream);
	OFF(snd_pcm_info, card);
	OFF(snd_pcm_info, id);
	OFF(snd_pcm_info, name);
	OFF(snd_pcm_info, subname);
	OFF(snd_pcm_info, dev_class);
	OFF(snd_pcm_info, dev_subclass);
	OFF(snd_pcm_info, subdevices_count);
	OFF(snd_pcm_info, subdevices_avail);
	OFF(snd_pcm_info, sync);
	OFF(snd_pcm_info, reserved);

	SIZE(snd_ctl_card_info);
	OFF(snd_ctl_card_info, card);
	OFF(snd_ctl_card_info, pad);
	OFF(snd_ctl_card_info, id);
	OFF(snd_ctl_card_info, driver);
	OFF(snd_ctl_card_info, name);
	OFF(snd_ctl_card_info, longname);
	OFF(snd_ctl_card_info, reserved_);
	OFF(snd_ctl_card_info, mixername);
	OFF(snd_ctl_card_info, components);

	CONST(SNDRV_PCM_VERSION);
	CONST(SNDRV_PCM_STREAM_PLAYBACK);
	CONST(SNDRV_PCM_STREAM_CAPTURE);
	CONST(SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	CONST(SNDRV_PCM_FORMAT_S16_LE);
	CONST(SNDRV_PCM_FORMAT_S24_LE);
	CONST(SNDRV_PCM_FORMAT_S32_LE);
	CONST(SNDRV_PCM_FORMAT_S24_3LE);
	CONST(SNDRV_PCM_SUBFORMAT_STD);
	CONST(SNDRV_PCM_HW_PARAM_ACCESS);
	CONST(SNDRV_PCM_HW_PARAM_FORMAT);
	CONST(SNDRV_PCM_HW_PARAM_SUBFORMAT);
	CONST(SNDRV_PCM_HW_PARAM_SAMPLE_BITS);
	CONST(SNDRV_PCM_HW_PARAM_FRAME_BITS);
	CONST(SNDRV_PCM_HW_PARAM_CHANNELS);
	CONST(SNDRV_PCM_HW_PARAM_RATE);
	CONST(SNDRV_PCM_HW_PARAM_PERIOD_TIME);
	CONST(SNDRV_PCM_HW_PARAM_PERIOD_SIZE);
	CONST(SNDRV_PCM_HW_PARAM_PERIOD_BYTES);
	CONST(SNDRV_PCM_HW_PARAM_PERIODS);
	CONST(SNDRV_PCM_HW_PARAM_BUFFER_TIME);
	CONST(SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
	CONST(SNDRV_PCM_HW_PARAM_BUFFER_BYTES);
	CONST(SNDRV_PCM_HW_PARAM_TICK_TIME);
	CONST(SNDRV_PCM_STATE_OPEN);
	CONST(SNDRV_PCM_STATE_SETUP);
	CONST(SNDRV_PCM_STATE_PREPARED);
	CONST(SNDRV_PCM_STATE_RUNNING);
	CONST(SNDRV_PCM_STATE_XRUN);
	CONST(SNDRV_PCM_STATE_DRAINING);
	CONST(SNDRV_PCM_STATE_PAUSED);
	CONST(SNDRV_PCM_STATE_SUSPENDED);
	CONST(SNDRV_PCM_STATE_DISCONNECTED);
	CONST(SNDRV_PCM_TSTAMP_TYPE_MONOTONIC);

	IOC(SNDRV_PCM_IOCTL_PVERSION);
	IOC(SNDRV_PCM_IOCTL_INFO);
	IOC(SNDRV_PCM_IOCTL_USER_PVERSION);
	IOC(SNDRV_PCM_IOCTL_HW_REFINE);
	IOC(SNDRV_PCM_IOCTL_HW_PARAMS);
	IOC(SNDRV_PCM_IOCTL_HW_FREE);
	IOC(SNDRV_PCM_IOCTL_SW_PARAMS);
	IOC(SNDRV_PCM_IOCTL_STATUS);
	IOC(SNDRV_PCM_IOCTL_DELAY);
	IOC(SNDRV_PCM_IOCTL_HWSYNC);
	IOC(SNDRV_PCM_IOCTL_PREPARE);
	IOC(SNDRV_PCM_IOCTL_RESET);
	IOC(SNDRV_PCM_IOCTL_START);
	IOC(SNDRV_PCM_IOCTL_DROP);
	IOC(SNDRV_PCM_IOCTL_DRAIN);
	IOC(SNDRV_PCM_IOCTL_PAUSE);
	IOC(SNDRV_PCM_IOCTL_RESUME);
	IOC(SNDRV_PCM_IOCTL_FORWARD);
	IOC(SNDRV_PCM_IOCTL_WRITEI_FRAMES);
	IOC(SNDRV_PCM_IOCTL_READI_FRAMES);
	IOC(SNDRV_CTL_IOCTL_PVERSION);
	IOC(SNDRV_CTL_IOCTL_CARD_INFO);
	IOC(SNDRV_CTL_IOCTL_PCM_NEXT_DEVICE);
	IOC(SNDRV_CTL_IOCTL_PCM_INFO);
	IOC(SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE);
	return 0;
}
