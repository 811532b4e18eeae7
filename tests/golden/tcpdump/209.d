(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 9
(002) ld       [26]
(003) jeq      #0xa000001       jt 21	jf 4
(004) jeq      #0xa000002       jt 21	jf 5
(005) jeq      #0xa000003       jt 21	jf 6
(006) jeq      #0xa000004       jt 21	jf 7
(007) ld       [30]
(008) jeq      #0xa000001       jt 21	jf 18
(009) jeq      #0x806           jt 11	jf 10
(010) jeq      #0x8035          jt 11	jf 22
(011) ld       [28]
(012) jeq      #0xa000001       jt 21	jf 13
(013) jeq      #0xa000002       jt 21	jf 14
(014) jeq      #0xa000003       jt 21	jf 15
(015) jeq      #0xa000004       jt 21	jf 16
(016) ld       [38]
(017) jeq      #0xa000001       jt 21	jf 18
(018) jeq      #0xa000002       jt 21	jf 19
(019) jeq      #0xa000003       jt 21	jf 20
(020) jeq      #0xa000004       jt 21	jf 22
(021) ret      #262144
(022) ret      #0
