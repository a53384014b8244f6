package orgchart

import (
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// compoundSurnames are two-character surnames, checked before single ones.
var compoundSurnames = map[string][]string{
	"尉迟": {"yu", "chi"}, "万俟": {"mo", "qi"}, "长孙": {"zhang", "sun"}, "单于": {"chan", "yu"},
	"欧阳": {"ou", "yang"}, "司马": {"si", "ma"}, "诸葛": {"zhu", "ge"}, "上官": {"shang", "guan"},
	"令狐": {"ling", "hu"}, "澹台": {"tan", "tai"}, "皇甫": {"huang", "fu"}, "东方": {"dong", "fang"},
}

// surnameReadings are surnames read differently from the character's most
// common reading (单 is dan as a word but shan as a surname).
var surnameReadings = map[rune]string{
	'单': "shan", '曾': "zeng", '解': "xie", '仇': "qiu", '朴': "piao", '区': "ou", '查': "zha",
	'乐': "yue", '燕': "yan", '盖': "ge", '翟': "zhai", '覃': "qin", '缪': "miao", '种': "chong",
	'任': "ren", '沈': "shen", '薄': "bo", '秘': "bi", '祭': "zhai", '华': "hua", '纪': "ji",
	'宁': "ning", '召': "shao", '折': "she", '隗': "wei", '员': "yun", '繁': "po", '句': "gou",
	'阚': "kan", '能': "nai", '柏': "bai", '重': "chong", '尉': "wei", '藏': "zang",
	'莘': "shen", '贲': "ben", '费': "fei", '都': "du", '参': "shen", '冼': "xian", '洗': "xian",
}

var pinyinArgs = pinyin.NewArgs() // Normal style: no tones

// NameKeys are the searchable spellings of a personal name.
type NameKeys struct {
	Full     string // zhangsan
	Initials string // zs
}

var nameKeyCache sync.Map // name → NameKeys; names repeat and rebuilds are frequent

// PinyinOf returns the full pinyin and the initials of a Chinese personal
// name, reading the surname as a surname. Latin letters and digits are kept
// (lower-cased); other characters are dropped.
func PinyinOf(name string) NameKeys {
	if v, ok := nameKeyCache.Load(name); ok {
		return v.(NameKeys)
	}
	runes := []rune(strings.TrimSpace(name))
	var syl []string
	i := 0
	if len(runes) >= 2 {
		if r, ok := compoundSurnames[string(runes[:2])]; ok {
			syl = append(syl, r...)
			i = 2
		}
	}
	if i == 0 && len(runes) > 0 {
		if r, ok := surnameReadings[runes[0]]; ok {
			syl = append(syl, r)
			i = 1
		}
	}
	var latin strings.Builder
	flush := func() {
		if latin.Len() > 0 {
			syl = append(syl, latin.String())
			latin.Reset()
		}
	}
	for ; i < len(runes); i++ {
		r := runes[i]
		if unicode.Is(unicode.Han, r) {
			flush()
			if p := pinyin.SinglePinyin(r, pinyinArgs); len(p) > 0 {
				syl = append(syl, p[0])
			}
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			latin.WriteRune(unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
	var k NameKeys
	var full, ini strings.Builder
	for _, s := range syl {
		full.WriteString(s)
		ini.WriteByte(s[0])
	}
	k.Full, k.Initials = full.String(), ini.String()
	nameKeyCache.Store(name, k)
	return k
}
