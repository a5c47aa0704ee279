// Generated: the code points that stringprep nodeprep (RFC 3454 tables B.1, B.2 and NFKC over
// Unicode 3.2, as the servers apply it: Prosody 0.12 through libidn, ejabberd 23.01 its own tables)
// leaves as they are, but that today's Unicode case-maps or normalises: characters assigned since
// (Georgian Mtavruli, Cherokee small letters, capital sharp s, ...) and a few whose case pair came
// later (Cherokee, Georgian Asomtavruli, U+04C0, U+2132), found by feeding every code point to
// Prosody's nodeprep and to fold.ts without this table; and the combining marks assigned since
// (unassigned, hence starters, to stringprep: NFKC must not reorder them). fold.ts keeps them as
// they are: folded by today's data (Node 20, Unicode 17), U+1C90 (Mtavruli) would be U+10D0
// (Mkhedruli), and two accounts the servers keep apart would share one key, and one clearance.
const RANGES = `
23a-23b 23d-23e 241 243-246 248 24a 24c 24e 350-35f 370 372 376 37f 3cf 3f7 3f9-3fa 3fd-3ff 487 4c0
4f6 4fa 4fc 4fe 510 512 514 516 518 51a 51c 51e 520 522 524 526 528 52a 52c 52e 5a2 5ba 5c5 5c7
610-61a 656-65f 7eb-7f3 7fd 816-819 81b-823 825-827 829-82d 859-85b 897-89f 8ca-8e1 8e3-8ff 9fe c3c
cbc d3b-d3c eba 103a 108d 10a0-10c5 10c7 10cd 10fc 135d-135f 13a0-13f5 1715 17dd 1939-193b
1a17-1a18 1a60 1a75-1a7c 1a7f 1ab0-1abd 1abf-1add 1ae0-1aeb 1b34 1b44 1b6b-1b73 1baa-1bab 1be6
1bf2-1bf3 1c37 1c80-1c89 1c90-1cba 1cbd-1cbf 1cd0-1cd2 1cd4-1ce0 1ce2-1ce8 1ced 1cf4 1cf8-1cf9
1d2c-1d2e 1d30-1d3a 1d3c-1d4d 1d4f-1d6a 1d78 1d9b-1dff 1e9e 1efa 1efc 1efe 2090-209c 20eb-20f0 2132
213b-213c 2150-2152 2183 2189 2c00-2c2f 2c60 2c62-2c64 2c67 2c69 2c6b 2c6d-2c70 2c72 2c75 2c7c-2c80
2c82 2c84 2c86 2c88 2c8a 2c8c 2c8e 2c90 2c92 2c94 2c96 2c98 2c9a 2c9c 2c9e 2ca0 2ca2 2ca4 2ca6 2ca8
2caa 2cac 2cae 2cb0 2cb2 2cb4 2cb6 2cb8 2cba 2cbc 2cbe 2cc0 2cc2 2cc4 2cc6 2cc8 2cca 2ccc 2cce 2cd0
2cd2 2cd4 2cd6 2cd8 2cda 2cdc 2cde 2ce0 2ce2 2ceb 2ced 2cef-2cf2 2d6f 2d7f 2de0-2dff 321d-321e
3244-3247 3250 327c-327e 32cc-32cf 32ff 3377-337a 33de-33df 33ff a640 a642 a644 a646 a648 a64a a64c
a64e a650 a652 a654 a656 a658 a65a a65c a65e a660 a662 a664 a666 a668 a66a a66c a66f a674-a67d a680
a682 a684 a686 a688 a68a a68c a68e a690 a692 a694 a696 a698 a69a a69c-a69f a6f0-a6f1 a722 a724 a726
a728 a72a a72c a72e a732 a734 a736 a738 a73a a73c a73e a740 a742 a744 a746 a748 a74a a74c a74e a750
a752 a754 a756 a758 a75a a75c a75e a760 a762 a764 a766 a768 a76a a76c a76e a770 a779 a77b a77d-a77e
a780 a782 a784 a786 a78b a78d a790 a792 a796 a798 a79a a79c a79e a7a0 a7a2 a7a4 a7a6 a7a8 a7aa-a7ae
a7b0-a7b4 a7b6 a7b8 a7ba a7bc a7be a7c0 a7c2 a7c4-a7c7 a7c9 a7cb-a7cc a7ce a7d0 a7d2 a7d4 a7d6 a7d8
a7da a7dc a7f1-a7f5 a7f8-a7f9 a806 a82c a8c4 a8e0-a8f1 a92b-a92d a953 a9b3 a9c0 aab0 aab2-aab4
aab7-aab8 aabe-aabf aac1 aaf6 ab5c-ab5f ab69 abed fa2e-fa2f fa6b-fa6d fa70-fad9 fe10-fe19 fe24-fe2f
fe47-fe48 101fd 102e0 10376-1037a 10426-10427 104b0-104d3 10570-1057a 1057c-1058a 1058c-10592
10594-10595 10781-10785 10787-107b0 107b2-107ba 10a0d 10a0f 10a38-10a3a 10a3f 10ae5-10ae6
10c80-10cb2 10d24-10d27 10d50-10d65 10d69-10d6d 10eab-10eac 10efa-10efb 10efd-10eff 10f46-10f50
10f82-10f85 11046 11070 1107f 110b9-110ba 11100-11102 11133-11134 11173 111c0 111ca 11235-11236
112e9-112ea 1133b-1133c 1134d 11366-1136c 11370-11374 113ce-113d0 11442 11446 1145e 114c2-114c3
115bf-115c0 1163f 116b6-116b7 1172b 11839-1183a 118a0-118bf 1193d-1193e 11943 119e0 11a34 11a47
11a99 11c3f 11d42 11d44-11d45 11d97 11f41-11f42 1612f 16af0-16af4 16b30-16b36 16e40-16e5f
16ea0-16eb8 16ff0-16ff1 1bc9e 1ccd6-1ccf9 1d242-1d244 1d4c1 1d6a4-1d6a5 1d7ca-1d7cb 1e000-1e006
1e008-1e018 1e01b-1e021 1e023-1e024 1e026-1e02a 1e030-1e06d 1e08f 1e130-1e136 1e2ae 1e2ec-1e2ef
1e4ec-1e4ef 1e5ee-1e5ef 1e6e3 1e6e6 1e6ee-1e6ef 1e6f5 1e8d0-1e8d6 1e900-1e921 1e944-1e94a
1ee00-1ee03 1ee05-1ee1f 1ee21-1ee22 1ee24 1ee27 1ee29-1ee32 1ee34-1ee37 1ee39 1ee3b 1ee42 1ee47
1ee49 1ee4b 1ee4d-1ee4f 1ee51-1ee52 1ee54 1ee57 1ee59 1ee5b 1ee5d 1ee5f 1ee61-1ee62 1ee64
1ee67-1ee6a 1ee6c-1ee72 1ee74-1ee77 1ee79-1ee7c 1ee7e 1ee80-1ee89 1ee8b-1ee9b 1eea1-1eea3
1eea5-1eea9 1eeab-1eebb 1f100-1f10a 1f110-1f12e 1f130-1f14f 1f16a-1f16c 1f190 1f200-1f202
1f210-1f23b 1f240-1f248 1f250-1f251 1fbf0-1fbf9
`;

/** Ranges [first, last] of the code points nodeprep keeps as they are and today's Unicode would fold. */
export const KEPT_AS_IS: readonly (readonly [number, number])[] = RANGES.trim()
  .split(/\s+/u)
  .map((range) => {
    const [first = "", last = first] = range.split("-");
    return [parseInt(first, 16), parseInt(last, 16)] as const;
  });

/** CJK compatibility ideographs whose decomposition Unicode corrected after 3.2: nodeprep's (old) one. */
export const OLD_DECOMPOSITIONS: ReadonlyMap<number, string> = new Map([
  [0x2f868, "\u{2136a}"],
  [0x2f874, "\u5f33"],
  [0x2f91f, "\u43ab"],
  [0x2f95f, "\u7aae"],
  [0x2f9bf, "\u4d57"],
]);
