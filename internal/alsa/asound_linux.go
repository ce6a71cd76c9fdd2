package alsa

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Mirrors of <sound/asound.h> (linux-libc-dev, SNDRV_PCM_VERSION 2.0.15), field for field.
// C long and unsigned long (snd_pcm_sframes_t, snd_pcm_uframes_t) are Go int and uint,
// pointers are unsafe.Pointer, and struct timespec is unix.Timespec: with these one
// definition has the kernel's layout on amd64, arm64 and arm (32-bit time_t). The c tags
// name the C fields; abi_linux_test.go prints sizes and offsets from them and compares
// them with testdata/abi_<GOARCH>.txt, which testdata/abicheck.c produces.

// sndInterval is struct snd_interval. The C bit-fields openmin, openmax, integer and empty
// share one unsigned int, allocated from bit 0 on every little-endian ABI we build for.
type sndInterval struct {
	Min   uint32 `c:"min"`
	Max   uint32 `c:"max"`
	Flags uint32
}

const (
	intervalOpenMin = 1 << 0
	intervalOpenMax = 1 << 1
	intervalInteger = 1 << 2
	intervalEmpty   = 1 << 3
)

// sndMask is struct snd_mask: a 256-bit set.
type sndMask struct {
	Bits [8]uint32
}

// hwParams is struct snd_pcm_hw_params.
type hwParams struct {
	Flags     uint32          `c:"flags"`
	Masks     [3]sndMask      `c:"masks"`
	Mres      [5]sndMask      `c:"mres"`
	Intervals [12]sndInterval `c:"intervals"`
	Ires      [9]sndInterval  `c:"ires"`
	Rmask     uint32          `c:"rmask"`
	Cmask     uint32          `c:"cmask"`
	Info      uint32          `c:"info"`
	Msbits    uint32          `c:"msbits"`
	RateNum   uint32          `c:"rate_num"`
	RateDen   uint32          `c:"rate_den"`
	FifoSize  uint            `c:"fifo_size"`
	Reserved  [64]byte        `c:"reserved"`
}

// swParams is struct snd_pcm_sw_params.
type swParams struct {
	TstampMode       int32    `c:"tstamp_mode"`
	PeriodStep       uint32   `c:"period_step"`
	SleepMin         uint32   `c:"sleep_min"`
	AvailMin         uint     `c:"avail_min"`
	XferAlign        uint     `c:"xfer_align"`
	StartThreshold   uint     `c:"start_threshold"`
	StopThreshold    uint     `c:"stop_threshold"`
	SilenceThreshold uint     `c:"silence_threshold"`
	SilenceSize      uint     `c:"silence_size"`
	Boundary         uint     `c:"boundary"`
	Proto            uint32   `c:"proto"`
	TstampType       uint32   `c:"tstamp_type"`
	Reserved         [56]byte `c:"reserved"`
}

// timespecSize and timePad follow the header's __time_pad: sizeof(time_t) - sizeof(int).
const (
	timespecSize = unsafe.Sizeof(unix.Timespec{})
	timePad      = unsafe.Sizeof(unix.Timespec{}.Sec) - 4
)

// pcmStatus is struct snd_pcm_status.
type pcmStatus struct {
	State               int32                     `c:"state"`
	Pad1                [timePad]byte             `c:"pad1"`
	TriggerTstamp       unix.Timespec             `c:"trigger_tstamp"`
	Tstamp              unix.Timespec             `c:"tstamp"`
	ApplPtr             uint                      `c:"appl_ptr"`
	HwPtr               uint                      `c:"hw_ptr"`
	Delay               int                       `c:"delay"`
	Avail               uint                      `c:"avail"`
	AvailMax            uint                      `c:"avail_max"`
	Overrange           uint                      `c:"overrange"`
	SuspendedState      int32                     `c:"suspended_state"`
	AudioTstampData     uint32                    `c:"audio_tstamp_data"`
	AudioTstamp         unix.Timespec             `c:"audio_tstamp"`
	DriverTstamp        unix.Timespec             `c:"driver_tstamp"`
	AudioTstampAccuracy uint32                    `c:"audio_tstamp_accuracy"`
	Reserved            [52 - 2*timespecSize]byte `c:"reserved"`
}

// xferi is struct snd_xferi, the argument of READI_FRAMES and WRITEI_FRAMES.
type xferi struct {
	Result int            `c:"result"`
	Buf    unsafe.Pointer `c:"buf"`
	Frames uint           `c:"frames"`
}

// pcmInfo is struct snd_pcm_info.
type pcmInfo struct {
	Device          uint32   `c:"device"`
	Subdevice       uint32   `c:"subdevice"`
	Stream          int32    `c:"stream"`
	Card            int32    `c:"card"`
	ID              [64]byte `c:"id"`
	Name            [80]byte `c:"name"`
	Subname         [32]byte `c:"subname"`
	DevClass        int32    `c:"dev_class"`
	DevSubclass     int32    `c:"dev_subclass"`
	SubdevicesCount uint32   `c:"subdevices_count"`
	SubdevicesAvail uint32   `c:"subdevices_avail"`
	Sync            [16]byte `c:"sync"`
	Reserved        [64]byte `c:"reserved"`
}

// ctlCardInfo is struct snd_ctl_card_info.
type ctlCardInfo struct {
	Card       int32     `c:"card"`
	Pad        int32     `c:"pad"`
	ID         [16]byte  `c:"id"`
	Driver     [16]byte  `c:"driver"`
	Name       [32]byte  `c:"name"`
	Longname   [80]byte  `c:"longname"`
	Reserved   [16]byte  `c:"reserved_"`
	Mixername  [80]byte  `c:"mixername"`
	Components [128]byte `c:"components"`
}

// Constants of <sound/asound.h>.
const (
	pcmVersion = 2<<16 | 0<<8 | 15 // SNDRV_PCM_VERSION

	streamPlayback = 0 // SNDRV_PCM_STREAM_PLAYBACK
	streamCapture  = 1 // SNDRV_PCM_STREAM_CAPTURE

	accessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED

	fmtS16LE   = 2  // SNDRV_PCM_FORMAT_S16_LE
	fmtS24LE   = 6  // SNDRV_PCM_FORMAT_S24_LE
	fmtS32LE   = 10 // SNDRV_PCM_FORMAT_S32_LE
	fmtS24_3LE = 32 // SNDRV_PCM_FORMAT_S24_3LE

	subformatStd = 0 // SNDRV_PCM_SUBFORMAT_STD

	// SNDRV_PCM_HW_PARAM_*: masks index Masks, intervals index Intervals after
	// subtracting paramFirstInterval.
	paramAccess        = 0
	paramFormat        = 1
	paramSubformat     = 2
	paramSampleBits    = 8
	paramFrameBits     = 9
	paramChannels      = 10
	paramRate          = 11
	paramPeriodTime    = 12
	paramPeriodSize    = 13
	paramPeriodBytes   = 14
	paramPeriods       = 15
	paramBufferTime    = 16
	paramBufferSize    = 17
	paramBufferBytes   = 18
	paramTickTime      = 19
	paramFirstInterval = paramSampleBits

	stateOpen         = 0 // SNDRV_PCM_STATE_*
	stateSetup        = 1
	statePrepared     = 2
	stateRunning      = 3
	stateXrun         = 4
	stateDraining     = 5
	statePaused       = 6
	stateSuspended    = 7
	stateDisconnected = 8

	tstampTypeMonotonic = 1 // SNDRV_PCM_TSTAMP_TYPE_MONOTONIC
)

// _IOC from <asm-generic/ioctl.h>, which amd64, arm64 and arm share.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr { return dir<<30 | size<<16 | typ<<8 | nr }

var (
	ioctlPCMPVersion     = ioc(iocRead, 'A', 0x00, unsafe.Sizeof(int32(0)))
	ioctlPCMInfo         = ioc(iocRead, 'A', 0x01, unsafe.Sizeof(pcmInfo{}))
	ioctlPCMUserPVersion = ioc(iocWrite, 'A', 0x04, unsafe.Sizeof(int32(0)))
	ioctlHWRefine        = ioc(iocRead|iocWrite, 'A', 0x10, unsafe.Sizeof(hwParams{}))
	ioctlHWParams        = ioc(iocRead|iocWrite, 'A', 0x11, unsafe.Sizeof(hwParams{}))
	ioctlHWFree          = ioc(iocNone, 'A', 0x12, 0)
	ioctlSWParams        = ioc(iocRead|iocWrite, 'A', 0x13, unsafe.Sizeof(swParams{}))
	ioctlStatus          = ioc(iocRead, 'A', 0x20, unsafe.Sizeof(pcmStatus{}))
	ioctlDelay           = ioc(iocRead, 'A', 0x21, unsafe.Sizeof(int(0)))
	ioctlHWSync          = ioc(iocNone, 'A', 0x22, 0)
	ioctlPrepare         = ioc(iocNone, 'A', 0x40, 0)
	ioctlReset           = ioc(iocNone, 'A', 0x41, 0)
	ioctlStart           = ioc(iocNone, 'A', 0x42, 0)
	ioctlDrop            = ioc(iocNone, 'A', 0x43, 0)
	ioctlDrain           = ioc(iocNone, 'A', 0x44, 0)
	ioctlPause           = ioc(iocWrite, 'A', 0x45, unsafe.Sizeof(int32(0)))
	ioctlResume          = ioc(iocNone, 'A', 0x47, 0)
	ioctlForward         = ioc(iocWrite, 'A', 0x49, unsafe.Sizeof(uint(0)))
	ioctlWriteIFrames    = ioc(iocWrite, 'A', 0x50, unsafe.Sizeof(xferi{}))
	ioctlReadIFrames     = ioc(iocRead, 'A', 0x51, unsafe.Sizeof(xferi{}))

	ioctlCtlPVersion           = ioc(iocRead, 'U', 0x00, unsafe.Sizeof(int32(0)))
	ioctlCtlCardInfo           = ioc(iocRead, 'U', 0x01, unsafe.Sizeof(ctlCardInfo{}))
	ioctlCtlPCMNextDevice      = ioc(iocRead, 'U', 0x30, unsafe.Sizeof(int32(0)))
	ioctlCtlPCMInfo            = ioc(iocRead|iocWrite, 'U', 0x31, unsafe.Sizeof(pcmInfo{}))
	ioctlCtlPCMPreferSubdevice = ioc(iocWrite, 'U', 0x32, unsafe.Sizeof(int32(0)))
)
