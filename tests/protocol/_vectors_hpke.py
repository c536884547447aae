"""HPKE known-answer vectors, transcribed with their sources (hex exactly as published).

Sources:

* ``RFC9180_X25519``: RFC 9180 Appendix A.1.1-A.1.4 (DHKEM(X25519, HKDF-SHA256),
  HKDF-SHA256, AES-128-GCM; modes base, psk, auth, auth_psk) and A.2.1-A.2.3 (same KEM/KDF,
  ChaCha20Poly1305; base, psk, auth). Read from the RFC text as approved for publication,
  cfrg/draft-irtf-cfrg-hpke ``auth48/draft-irtf-cfrg-hpke.txt`` @ 8fc0f52 (Appendix B there),
  and cross-read against golang/go ``src/crypto/internal/hpke/testdata/rfc9180-vectors.json``
  for A.1.1/A.2.1. Encryptions use ``pt = "Beauty is truth, truth beauty"`` and
  ``aad = "Count-<seq>"``; exports use contexts "", 0x00 and "TestContext" with L = 32.
* ``BORINGSSL_X25519_AES256``: RFC 9180 has no DHKEM(X25519)/HKDF-SHA256/AES-256-GCM
  vector. This sender-side vector is from BoringSSL ``crypto/hpke/hpke_test_vectors.txt``
  (generated from the CFRG JSON vectors), as quoted in google/tink's HPKE test utilities
  (pkRm, skEm, info and the sequence-0 ciphertext; the source omits skRm and enc).
* ``BORINGSSL_XWING``: X-Wing (MLKEM768-X25519, KEM 0x647a), HKDF-SHA256, AES-128-GCM,
  base mode, from BoringSSL ``crypto/hpke/hpke_test_vectors.txt`` as quoted in google/tink.
  skRm is the 32-byte X-Wing seed. Recipient side only (encapsulation is randomised).
* ``CONCRETE_XWING_KEM``: draft-irtf-cfrg-concrete-hybrid-kems ``test-vectors.json`` @
  1bbca40, group ``qsf_x25519_mlkem768_shake256_sha3256`` (MLKEM768-X25519), the vector with
  seed 0x0b * 32: key generation and decapsulation.
"""

from __future__ import annotations

from typing import Any

PLAINTEXT = bytes.fromhex("4265617574792069732074727574682c20747275746820626561757479")
INFO = bytes.fromhex("4f6465206f6e2061204772656369616e2055726e")
PSK = bytes.fromhex("0247fd33b913760fa1fa51e1892d9f307fbe65eb171e8132c2af18555a738b82")
PSK_ID = bytes.fromhex("456e6e796e20447572696e206172616e204d6f726961")
EXPORT_CONTEXTS = (b"", b"\x00", b"TestContext")


def aad(seq: int) -> bytes:
    """The AAD the RFC 9180 vectors use for sequence number ``seq``."""
    return f"Count-{seq}".encode()


RFC9180_X25519: list[dict[str, Any]] = [
    {
        "name": "A.1.1 base AES-128-GCM",
        "mode": 0,
        "aead_id": 1,
        "ikmE": "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
        "pkEm": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
        "skEm": "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
        "ikmR": "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
        "pkRm": "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
        "skRm": "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
        "shared_secret": "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
        "key": "4531685d41d65f03dc48f6b8302c05b0",
        "base_nonce": "56d890e5accaaf011cff4b7d",
        "exporter_secret": "45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
        "encryptions": {
            0: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
            "6d8770ac83d07bea87e13c512a",
            1: "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab25"
            "1c03d0c22a56b8ca42c2063b84",
            2: "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb7251649158"
            "8d96a19ad4a683518973dcc180",
            4: "583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a"
            "09fc0012bc69fccaa251c0246d",
            255: "7175db9717964058640a3a11fb9007941a5d1757fda1a6935c805c21af32505b"
            "f106deefec4a49ac38d71c9e0a",
            256: "957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3"
            "fbeda97d2e0e1aba483a2df9f2",
        },
        "exports": [
            "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee",
            "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5",
            "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931",
        ],
    },
    {
        "name": "A.1.2 psk AES-128-GCM",
        "mode": 1,
        "aead_id": 1,
        "ikmE": "78628c354e46f3e169bd231be7b2ff1c77aa302460a26dbfa15515684c00130b",
        "pkEm": "0ad0950d9fb9588e59690b74f1237ecdf1d775cd60be2eca57af5a4b0471c91b",
        "skEm": "463426a9ffb42bb17dbe6044b9abd1d4e4d95f9041cef0e99d7824eef2b6f588",
        "ikmR": "d4a09d09f575fef425905d2ab396c1449141463f698f8efdb7accfaff8995098",
        "pkRm": "9fed7e8c17387560e92cc6462a68049657246a09bfa8ade7aefe589672016366",
        "skRm": "c5eb01eb457fe6c6f57577c5413b931550a162c71a03ac8d196babbd4e5ce0fd",
        "shared_secret": "727699f009ffe3c076315019c69648366b69171439bd7dd0807743bde76986cd",
        "key": "15026dba546e3ae05836fc7de5a7bb26",
        "base_nonce": "9518635eba129d5ce0914555",
        "exporter_secret": "3d76025dbbedc49448ec3f9080a1abab6b06e91c0b11ad23c912f043a0ee7655",
        "encryptions": {
            0: "e52c6fed7f758d0cf7145689f21bc1be6ec9ea097fef4e959440012f4feb73fb"
            "611b946199e681f4cfc34db8ea",
            1: "49f3b19b28a9ea9f43e8c71204c00d4a490ee7f61387b6719db765e948123b45"
            "b61633ef059ba22cd62437c8ba",
            2: "257ca6a08473dc851fde45afd598cc83e326ddd0abe1ef23baa3baa4dd8cde99"
            "fce2c1e8ce687b0b47ead1adc9",
            4: "a71d73a2cd8128fcccbd328b9684d70096e073b59b40b55e6419c9c68ae21069"
            "c847e2a70f5d8fb821ce3dfb1c",
            255: "55f84b030b7f7197f7d7d552365b6b932df5ec1abacd30241cb4bc4ccea27bd2"
            "b518766adfa0fb1b71170e9392",
            256: "c5bf246d4a790a12dcc9eed5eae525081e6fb541d5849e9ce8abd92a3bc15517"
            "76bea16b4a518f23e237c14b59",
        },
        "exports": [
            "dff17af354c8b41673567db6259fd6029967b4e1aad13023c2ae5df8f4f43bf6",
            "6a847261d8207fe596befb52928463881ab493da345b10e1dcc645e3b94e2d95",
            "8aff52b45a1be3a734bc7a41e20b4e055ad4c4d22104b0c20285a7c4302401cd",
        ],
    },
    {
        "name": "A.1.3 auth AES-128-GCM",
        "mode": 2,
        "aead_id": 1,
        "ikmE": "6e6d8f200ea2fb20c30b003a8b4f433d2f4ed4c2658d5bc8ce2fef718059c9f7",
        "pkEm": "23fb952571a14a25e3d678140cd0e5eb47a0961bb18afcf85896e5453c312e76",
        "skEm": "ff4442ef24fbc3c1ff86375b0be1e77e88a0de1e79b30896d73411c5ff4c3518",
        "ikmR": "f1d4a30a4cef8d6d4e3b016e6fd3799ea057db4f345472ed302a67ce1c20cdec",
        "pkRm": "1632d5c2f71c2b38d0a8fcc359355200caa8b1ffdf28618080466c909cb69b2e",
        "skRm": "fdea67cf831f1ca98d8e27b1f6abeb5b7745e9d35348b80fa407ff6958f9137e",
        "ikmS": "94b020ce91d73fca4649006c7e7329a67b40c55e9e93cc907d282bbbff386f58",
        "pkSm": "8b0c70873dc5aecb7f9ee4e62406a397b350e57012be45cf53b7105ae731790b",
        "skSm": "dc4a146313cce60a278a5323d321f051c5707e9c45ba21a3479fecdf76fc69dd",
        "shared_secret": "2d6db4cf719dc7293fcbf3fa64690708e44e2bebc81f84608677958c0d4448a7",
        "key": "b062cb2c4dd4bca0ad7c7a12bbc341e6",
        "base_nonce": "a1bc314c1942ade7051ffed0",
        "exporter_secret": "ee1a093e6e1c393c162ea98fdf20560c75909653550540a2700511b65c88c6f1",
        "encryptions": {
            0: "5fd92cc9d46dbf8943e72a07e42f363ed5f721212cd90bcfd072bfd9f44e06b8"
            "0fd17824947496e21b680c141b",
            1: "d3736bb256c19bfa93d79e8f80b7971262cb7c887e35c26370cfed62254369a1"
            "b52e3d505b79dd699f002bc8ed",
            2: "122175cfd5678e04894e4ff8789e85dd381df48dcaf970d52057df2c9acc3b12"
            "1313a2bfeaa986050f82d93645",
            4: "dae12318660cf963c7bcbef0f39d64de3bf178cf9e585e756654043cc5059873"
            "bc8af190b72afc43d1e0135ada",
            255: "55d53d85fe4d9e1e97903101eab0b4865ef20cef28765a47f840ff99625b7d69"
            "dee927df1defa66a036fc58ff2",
            256: "42fa248a0e67ccca688f2b1d13ba4ba84755acf764bd797c8f7ba3b9b1dc3330"
            "326f8d172fef6003c79ec72319",
        },
        "exports": [
            "28c70088017d70c896a8420f04702c5a321d9cbf0279fba899b59e51bac72c85",
            "25dfc004b0892be1888c3914977aa9c9bbaf2c7471708a49e1195af48a6f29ce",
            "5a0131813abc9a522cad678eb6bafaabc43389934adb8097d23c5ff68059eb64",
        ],
    },
    {
        "name": "A.1.4 auth_psk AES-128-GCM",
        "mode": 3,
        "aead_id": 1,
        "ikmE": "4303619085a20ebcf18edd22782952b8a7161e1dbae6e46e143a52a96127cf84",
        "pkEm": "820818d3c23993492cc5623ab437a48a0a7ca3e9639c140fe1e33811eb844b7c",
        "skEm": "14de82a5897b613616a00c39b87429df35bc2b426bcfd73febcb45e903490768",
        "ikmR": "4b16221f3b269a88e207270b5e1de28cb01f847841b344b8314d6a622fe5ee90",
        "pkRm": "1d11a3cd247ae48e901939659bd4d79b6b959e1f3e7d66663fbc9412dd4e0976",
        "skRm": "cb29a95649dc5656c2d054c1aa0d3df0493155e9d5da6d7e344ed8b6a64a9423",
        "ikmS": "62f77dcf5df0dd7eac54eac9f654f426d4161ec850cc65c54f8b65d2e0b4e345",
        "pkSm": "2bfb2eb18fcad1af0e4f99142a1c474ae74e21b9425fc5c589382c69b50cc57e",
        "skSm": "fc1c87d2f3832adb178b431fce2ac77c7ca2fd680f3406c77b5ecdf818b119f4",
        "shared_secret": "f9d0e870aba28d04709b2680cb8185466c6a6ff1d6e9d1091d5bf5e10ce3a577",
        "key": "1364ead92c47aa7becfa95203037b19a",
        "base_nonce": "99d8b5c54669807e9fc70df1",
        "exporter_secret": "f048d55eacbf60f9c6154bd4021774d1075ebf963c6adc71fa846f183ab2dde6",
        "encryptions": {
            0: "a84c64df1e11d8fd11450039d4fe64ff0c8a99fca0bd72c2d4c3e0400bc14a40"
            "f27e45e141a24001697737533e",
            1: "4d19303b848f424fc3c3beca249b2c6de0a34083b8e909b6aa4c3688505c05ff"
            "e0c8f57a0a4c5ab9da127435d9",
            2: "0c085a365fbfa63409943b00a3127abce6e45991bc653f182a80120868fc507e"
            "9e4d5e37bcc384fc8f14153b24",
            4: "000a3cd3a3523bf7d9796830b1cd987e841a8bae6561ebb6791a3f0e34e89a4f"
            "b539faeee3428b8bbc082d2c1a",
            255: "576d39dd2d4cc77d1a14a51d5c5f9d5e77586c3d8d2ab33bdec6379e28ce5c50"
            "2f0b1cbd09047cf9eb9269bb52",
            256: "13239bab72e25e9fd5bb09695d23c90a24595158b99127505c8a9ff9f127e0d6"
            "57f71af59d67d4f4971da028f9",
        },
        "exports": [
            "08f7e20644bb9b8af54ad66d2067457c5f9fcb2a23d9f6cb4445c0797b330067",
            "52e51ff7d436557ced5265ff8b94ce69cf7583f49cdb374e6aad801fc063b010",
            "a30c20370c026bbea4dca51cb63761695132d342bae33a6a11527d3e7679436d",
        ],
    },
    {
        "name": "A.2.1 base ChaCha20Poly1305",
        "mode": 0,
        "aead_id": 3,
        "ikmE": "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
        "pkEm": "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
        "skEm": "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
        "ikmR": "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
        "pkRm": "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
        "skRm": "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
        "shared_secret": "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7",
        "key": "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91",
        "base_nonce": "5c4d98150661b848853b547f",
        "exporter_secret": "a3b010d4994890e2c6968a36f64470d3c824c8f5029942feb11e7a74b2921922",
        "encryptions": {
            0: "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db"
            "21993c62ce81883d2dd1b51a28",
            1: "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e"
            "85285337cc95ba5f59992dc98c",
            2: "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02"
            "b4f10ecac6f48c32f878fae86b",
            4: "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122b"
            "b153495ff0b02e9e54a50dbe16",
            255: "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b888"
            "0a5f6b3936da9cd6c23ef2a95c",
            256: "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076"
            "214c0c40d4c728d6ed9e727a5b",
        },
        "exports": [
            "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e",
            "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69",
            "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53",
        ],
    },
    {
        "name": "A.2.2 psk ChaCha20Poly1305",
        "mode": 1,
        "aead_id": 3,
        "ikmE": "35706a0b09fb26fb45c39c2f5079c709c7cf98e43afa973f14d88ece7e29c2e3",
        "pkEm": "2261299c3f40a9afc133b969a97f05e95be2c514e54f3de26cbe5644ac735b04",
        "skEm": "0c35fdf49df7aa01cd330049332c40411ebba36e0c718ebc3edf5845795f6321",
        "ikmR": "26b923eade72941c8a85b09986cdfa3f1296852261adedc52d58d2930269812b",
        "pkRm": "13640af826b722fc04feaa4de2f28fbd5ecc03623b317834e7ff4120dbe73062",
        "skRm": "77d114e0212be51cb1d76fa99dd41cfd4d0166b08caa09074430a6c59ef17879",
        "shared_secret": "4be079c5e77779d0215b3f689595d59e3e9b0455d55662d1f3666ec606e50ea7",
        "key": "600d2fdb0313a7e5c86a9ce9221cd95bed069862421744cfb4ab9d7203a9c019",
        "base_nonce": "112e0465562045b7368653e7",
        "exporter_secret": "73b506dc8b6b4269027f80b0362def5cbb57ee50eed0c2873dac9181f453c5ac",
        "encryptions": {
            0: "4a177f9c0d6f15cfdf533fb65bf84aecdc6ab16b8b85b4cf65a370e07fc1d78d"
            "28fb073214525276f4a89608ff",
            1: "5c3cabae2f0b3e124d8d864c116fd8f20f3f56fda988c3573b40b09997fd6c76"
            "9e77c8eda6cda4f947f5b704a8",
            2: "14958900b44bdae9cbe5a528bf933c5c990dbb8e282e6e495adf8205d19da9eb"
            "270e3a6f1e0613ab7e757962a4",
            4: "c2a7bc09ddb853cf2effb6e8d058e346f7fe0fb3476528c80db6b698415c5f8c"
            "50b68a9a355609e96d2117f8d3",
            255: "2414d0788e4bc39a59a26d7bd5d78e111c317d44c37bd5a4c2a1235f2ddc2085"
            "c487d406490e75210c958724a7",
            256: "c567ae1c3f0f75abe1dd9e4532b422600ed4a6e5b9484dafb1e43ab9f5fd662b"
            "28c00e2e81d3cde955dae7e218",
        },
        "exports": [
            "813c1bfc516c99076ae0f466671f0ba5ff244a41699f7b2417e4c59d46d39f40",
            "2745cf3d5bb65c333658732954ee7af49eb895ce77f8022873a62a13c94cb4e1",
            "ad40e3ae14f21c99bfdebc20ae14ab86f4ca2dc9a4799d200f43a25f99fa78ae",
        ],
    },
    {
        "name": "A.2.3 auth ChaCha20Poly1305",
        "mode": 2,
        "aead_id": 3,
        "ikmE": "938d3daa5a8904540bc24f48ae90eed3f4f7f11839560597b55e7c9598c996c0",
        "pkEm": "f7674cc8cd7baa5872d1f33dbaffe3314239f6197ddf5ded1746760bfc847e0e",
        "skEm": "c94619e1af28971c8fa7957192b7e62a71ca2dcdde0a7cc4a8a9e741d600ab13",
        "ikmR": "64835d5ee64aa7aad57c6f2e4f758f7696617f8829e70bc9ac7a5ef95d1c756c",
        "pkRm": "1a478716d63cb2e16786ee93004486dc151e988b34b475043d3e0175bdb01c44",
        "skRm": "3ca22a6d1cda1bb9480949ec5329d3bf0b080ca4c45879c95eddb55c70b80b82",
        "ikmS": "9d8f94537d5a3ddef71234c0baedfad4ca6861634d0b94c3007fed557ad17df6",
        "pkSm": "f0f4f9e96c54aeed3f323de8534fffd7e0577e4ce269896716bcb95643c8712b",
        "skSm": "2def0cb58ffcf83d1062dd085c8aceca7f4c0c3fd05912d847b61f3e54121f05",
        "shared_secret": "d2d67828c8bc9fa661cf15a31b3ebf1febe0cafef7abfaaca580aaf6d471e3eb",
        "key": "b071fd1136680600eb447a845a967d35e9db20749cdf9ce098bcc4deef4b1356",
        "base_nonce": "d20577dff16d7cea2c4bf780",
        "exporter_secret": "be2d93b82071318cdb88510037cf504344151f2f9b9da8ab48974d40a2251dd7",
        "encryptions": {
            0: "ab1a13c9d4f01a87ec3440dbd756e2677bd2ecf9df0ce7ed73869b98e00c09be"
            "111cb9fdf077347aeb88e61bdf",
            1: "3265c7807ffff7fdace21659a2c6ccffee52a26d270c76468ed74202a65478bf"
            "aedfff9c2b7634e24f10b71016",
            2: "3aadee86ad2a05081ea860033a9d09dbccb4acac2ded0891da40f51d4df19925"
            "f7a767b076a5cbc9355c8fd35e",
            4: "502ecccd5c2be3506a081809cc58b43b94f77cbe37b8b31712d9e21c9e61aa69"
            "46a8e922f54eae630f88eb8033",
            255: "652e597ba20f3d9241cda61f33937298b1169e6adf72974bbe454297502eb4be"
            "132e1c5064702fc165c2ddbde8",
            256: "3be14e8b3bbd1028cf2b7d0a691dbbeff71321e7dec92d3c2cfb30a0994ab246"
            "af76168480285a60037b4ba13a",
        },
        "exports": [
            "070cffafd89b67b7f0eeb800235303a223e6ff9d1e774dce8eac585c8688c872",
            "2852e728568d40ddb0edde284d36a4359c56558bb2fb8837cd3d92e46a3a14a8",
            "1df39dc5dd60edcbf5f9ae804e15ada66e885b28ed7929116f768369a3f950ee",
        ],
    },
]

BORINGSSL_X25519_AES256: dict[str, str] = {
    "pkRm": "ac66bae9ffa270cf4a89ed9f274e30c0456babae2572aaaf002ff0d8884ab018",
    "skEm": "28e212563a8b6f068af7ff17400ff1baf23612b7a738bbaf5dfb321b2b5b431a",
    "ct0": "23ded2d5d90ea89d975dac4792b297240f194952d7421aacbff0474100052b6bb8aa58d1"
    "8ef6c42b6960e2e28f",
}

BORINGSSL_XWING: dict[str, Any] = {
    "skRm": "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26",
    "pkRm_prefix": "e2236b35a8c24b39b10aa1323a96a919a2ced88400633a7b07131713fc14b2b5",
    "pkRm_x25519": "859edb06eff389b27dce59844570216223593d4ba32d9abac8cd049040ef6534",
    "enc": (
        "3829125bd65c4e3612e520ff3cd77938d11c7fa6445fe440a77ee7354b178b71018427144f"
        "b2ebcb0aab44f4456251d3885181e0bae0509793f7c160116630ecd898af82d557e5b8aa31"
        "3672c785e40a8c4b401ecc3d13300591933fe46f7061eaac318f4ab9277174c6282b2f1cc7"
        "b7c6dfe57e34f0a325732d58cce71a33fef826419f9c033e31001d8db456a4818563b07545"
        "30a855cde822c38643a73c19bb0a9552df2f36c9b00020b3a32d4130dd073ed9eddcea0463"
        "64bd25ca1ba99865e3aed169c338042fbd31dab9387ed9f5c6d6117bd320b6e3f7092fbab7"
        "e2ddceceb81907fcbea6986444836f86004e946ed1c0236dbc760fa06c1ec191d9c92b07e9"
        "0d243715975af3422980287fc7a57e120b604c8a598e8f1aac5d430e2b2801ff3b36da7640"
        "fdbc1fe41fc49fd04320ec86e9dc104aa88f7e346a950c0f2dc1c423fbde5adbd360b66079"
        "523795a9e351d17e5b2e943c6381b07c16612960aa682ddc7093e510a7f2b0f24761ab0564"
        "c926049dc330f3ed6c4ec23a6cf0f51fd99edae518fdb7615060931c3c0b58f34a7a8aa647"
        "368a8bed78ee7b5213bb730170320ccb218e42d7c06b4a5d9088acf3ea9d7f7633203e3a66"
        "372c2a75de396f329b6c0d35e2505dcb0ff2ec07eb5ca7f4f44a2d38df047aaeb5761e36fc"
        "65537a560ed302992aa03d0b0e20e96501e70545eafbc0bcb93e3d71761f814555c9407654"
        "0632509a23f2b19d632da32e86203a5232103e13707686e1c2662e50a5f3e08a730e90d400"
        "2aff2a85eda0b39c360e1618999100bc56d2c06e7c4cdd728f65a0e044ae2c0c94704b760b"
        "0d2a993483cc0636dcb7f5e1ff2453aee6804297b66b314d6158360a4f7f8dfaf70e83459a"
        "01b2a9b8e8e6b9dc69793b22940acae5ac404951358e7e31901b47ee6d12ee483e4d449bc8"
        "d59af6d56b982b4a6134e29648c54aa47e85d5eb63a98a94f53d91773bf63902057f096971"
        "9b28778881aa01504e3f8631b4091a19392bd1afe2554be79b6c61f125d78e16dec8dff31e"
        "778076ef81b4a30217b321fb714511e9d9fe87f6616572ec1b2d7dab2ed1eaab1bc8bd7f03"
        "3c2a95c6426b336a24a972a3efcdaf3614d3a570ec9bea43d2a1bcc9ca10590cd473acbdb0"
        "ba86d7b6a5d24a2a4b0b8b192846d2da9f6b7f6b43c7b6953ca071a47b7025dca6d452d196"
        "4106b8e640d6af37c87462e7bbd113cedbd336da61e283483624dd7551a4e62c8f4686e4e0"
        "01930ad8820962bedf2afbdd2f7cd5c79cd392e031671c349a92b4ee40271ce08cb0b83a76"
        "275a70dc56eca92a335f7584f7fa132171416b4eed2a8888edca372285fefbcfaf36646a7a"
        "45f95113f3015d190ebd7961f74960672fca13f96f8f076927baecfebc742443ff916b9331"
        "aa886718dd2a3a68703df5fb477b6d0942a55b6379e8920fede28bebdc36e7cbf56cb3d314"
        "3d1be5ddf7deac990fe41db417dc62f297f7956e20d6fa9d2a9735b5675c256fb3c94fff37"
        "bafa16fa15e299ba47a311263f9581298172eafc6e007b6cb01a54e73f5c4bc692d5e002e9"
        "b423301a39155577991d"
    ),
    "ct0": "a96ea59259a2893265d79052bfa8e976f6a9aaf9fb0cce901449f23c18a9e9b238e29161c2"
    "d94b5b6fefa046af",
    "exports": [
        "c78ebc7a3064b7274dd5c316d62bb05114a7578b0af79cd856a38d6bcdde72a9",
        "a5d3e6562b1d9cf928620d51a1d5c141045e0ab91af77d2b5d4f9cf9d85813d9",
        "5fd0d16475885903b6c533a789e2dbe1f8a6088b8424534f9b0922314dd2ae4e",
    ],
}

CONCRETE_XWING_KEM: dict[str, str] = {
    "seed": "0b" * 32,
    "encapsulation_key": (
        "b3c66fa010a66fc5bcc8ca23c4d9179778a874098393b90df0694b057b559bb4392ac810f363a15e"
        "d66961f9a749ac72fce5aaed774220971b6d6222dce553b0675071fa1c75c12a72ac0cdd82c723c3"
        "4d68c90450f8a5153786467308ee3a4e7c925c647a708c4948ad365e9ab5079bc183fdf6b7cbc83c"
        "c772b382168fe3d265a5db4d79259fb9758a17754dd1517f65992dcf8572b8550ddfe1928783bdd4"
        "aa7a4bc737270c9f4f60b14d54519da058898a63d321b1efd6209791c58068bcd9072ea06ab50825"
        "650f71388943a24001cd85685463db4d4b91c8f7032be9d223076377b608a39d3b05f2434e67f851"
        "6e1a1b74a2581628a454217c6f076cb438b81621493db40ad89453c9169be33471bbeb831ca0c3c8"
        "e781b3236856b83606511193d67609244de8c99271ea1bda849bf54559512b76818c80ef54247e78"
        "cd409357fe0ccce1421c532690ed15a3f930181251259944c33258ba72d25f3a150d00edbac9d9c4"
        "ac849c9db84d87e05debfc46c9ba6a94b21272c47d92152f4fb5992f478771c8260a1b050fc3c09f"
        "57beb109b4e5657b0a902ed9ec127184c6da05bf8afa0ae05865b7a2cbb10c39ecf5963ebc6d4135"
        "a20b30255b5c13f1252c863940a22483ae6870765b412b242fe533ad5b66cfb8e5bc24cbcb5dc2a8"
        "2d9baf19830b35986b065506578684baf9a8048698b2745bdaf77b07d72d3ab49e46e04a465266b3"
        "e267c402aa90dccedf08305804273f81609e8932d89bba3d4b0140fc4a8fb2a49961c0716640c04a"
        "bdabd4748b2b96bc964928fb6520652e6c539adbe63bec83cf72566f79241a2e413928d921bc8c2f"
        "e7c6b1cf875a5589a64d56a4c7576dddc4564fb8b87fe4a01f202f8f8563a9ac6e61e951fa631c6a"
        "666872194a16fc5b396cb38d614fd7d585bcbb41e8e405ec410a9b1ace39020723b9277a8b4e63f9"
        "082c16c70372059a70b2df297d81cb67a2e1658031ccd5316eefc7b1dd241347f990bca137359b23"
        "7de59756ac7f6cd4c78e7493e11704ad3284cb620051509fa35b9641e82950f802b2fabd04970c20"
        "5652ae713f76c2bbc623b94f1ab48cd38188b127e2b7c4cd374b48c163718747099a1a660c9edaba"
        "36ee1bb5a71a3b6bc363a7e04f256ab91e509f735c41de6738db31909854afa373045afb0a6ad30f"
        "cfba4c80740d4bc4814e54c0d8d190baa62b2ea1469b8022a7466190e78580c0cb7fab140e759e7d"
        "982776282fa82044767b7ee9897442148db001148c858a4888ae7b88ceb526076622c5780841a78a"
        "33b516660943b62f8bc60e9a6d7507430be85248786bd434b42f08bda4e6a54f3bb6ddf9bcde61b3"
        "5df76453180952c0a32f202c7dd4861fc686e4b7bd564b5c26203128bb45a947a00d74cc10228560"
        "75ae320b3f3ae56be2798e511968dc27732ee8c8a6575dd7c9923a4c2b81991a1e159727b960494c"
        "87fe66984f0a77b0374622a70b3ca80773444aee0386f2931a176520b8d55c9ee992929b8b46450c"
        "7ac9bece3412924152e98207a995ba501b30938712c0b4010b23c88e4c45ac4438a5029074005323"
        "b3a611394da791bbb9dcc79948420417a271a4ae4cfc08c0b8b564d473acc50492f94320a10ea3c4"
        "1db35af8e3e86fea098fd7be1d8aa638a227903cc2d7b8268f148b7e552019fd7a4fda43737cbba6"
        "4182f839e08e71d0f3f23ea8c6bed760"
    ),
    "ciphertext": (
        "d3db66a3d01d907f0e81d79ec0d2cf56eaf62d7b516daf22ae8b6bc217c8e5e9b1b566476ab94707"
        "effdf1dc9fc3bbb9f89a453bf349979179c3c68c97abf17f6da365acaf44b92130d1dd1b500d633a"
        "bcc46201524643f36cfd840a1b565deaa30a9e287ff53a7f6dffc563374aba9042f4e51a47b41a95"
        "ed42630000a918bb608059365b2d0380a0f9df6cef3b898b8980e6e4ae8d6972652842b54d62a170"
        "a1972c381bf65c3b5b4e1e6b7369e8977ee33a539d345a088711fea725a10475c94e35e9f9aaf82f"
        "24b77e314465f349a17d10d4d3b546adbebd3c7f1aac3db7c1a115d6d7eb00bb776e5d56fd581b74"
        "51eb41c1fa8751a93bbf440ab5755d0df1e8bab1a237541e5b743ec7dec9f4a37784e3e806be8674"
        "2077e561c22e1c4cd42b18f9f99e5cf7ad1d459fbfb9ff4ab7fc77e13cc3596a2158bc3c7139bfb7"
        "83d29abb5ec0e96fa7bb9797c3ad01441fb10e40dda1a47dda63113c2488c505c4c9550475ff402b"
        "4bd071a9b918106e3d75ab9a627d85ad9286aec4b9b8cd1ee22ac102a568ca94dc9c99afc9d04fb2"
        "1abf0c70612e88f4efa4474473673040c2d92891ca3652df26693fbfbdbba6357fad6ce230f95ca9"
        "b044b88afabc1246ddd6267396b58b3fb8d776fd42d819ee18436c72eee355ceebf402ea47199310"
        "d15a681a15128f7da21b559ca18cc3c985e5c4f148fec862aa864f89f0be37a1af1b662b4c0defc0"
        "51a04e9be8e1d1c94b79b2f471f15da5e00fa477550621d3546d1718b7ccf3f33964e7f7082277d9"
        "ed8390d5fd5fce8ab2f306e2c8e042b3f226320fa74259a8aed30a6e95db750205358f7b6d307e41"
        "664dd79e5289c7bf79199bbf8ab154d53c295985cd3c678240189add1261c66cae4453252048d831"
        "0e72b39a9ddf1bcb2422cb82833c3337bb019e5ebf419f3f20ee0a551e2ee96d5b2abfe5af4c44de"
        "678f2bc70e5733c9e221069dc32bec3e9db6cb206117f1ad89ffa57727ed4ce6adfcafba7291b278"
        "c219db3e22182a762b7bc33e93a6afe4f72da9eb4be0839ba909ec6b589e969e33bac9fb505cb89d"
        "c4c7e60dea51970bdfbd702b252060282707bf172ad4d0d4dbd87e7bfeed153604a2b99679de5482"
        "6bdfdfa20d809236b74157877b45aafb09559e1078c3b0f76ba563de82ca073ad181b9b7854d9780"
        "5124f8ae63ddfa77c5b34d99c6a82442823b028abd53d70f2e6956b845416f5c3817aa799d5579d0"
        "98e0500f9e1b8933a3034696f01532ee3f96387b108442504508f1b3d3177ee34830e9cea8ef0653"
        "c545457031a24973ff20d8643abeb2af4b3850dec6cf165e51a00cea0e85032ef51413e060db7344"
        "0bc28da2bad80aa868e7d68702f4285d08ce7d832fe14b754197b30e745408bdef4a056be619bfcd"
        "a403923bd824fc9f567d11a31f50d7452a3d527e691194e4fc6b094b46fd7f61eabc3064a250350e"
        "5499c647a860a05915cb7e4905ca0a3c6fa365fab1fa8bb0f2aafa7f09429c8794df660b89d78e19"
        "9116334bad3234c6742562a1209c1a3694cf632449c658f54b085363c509a9d834a6914f78301719"
    ),
    "shared_secret": "60447f94b1e3675f09dbc4bc1abe8eafa14aed544547637aa980c3822ddd8578",
}
