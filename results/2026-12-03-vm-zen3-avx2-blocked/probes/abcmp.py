import csv,glob,statistics as st,sys
pre,a0,b0=sys.argv[1],sys.argv[2],sys.argv[3]
d={}
for cb in (a0,b0):
  for f in sorted(glob.glob(f'/tmp/{pre}-{cb}-*/*/gemm.csv'), key=lambda f: int(f.split('-')[2].split('/')[0])):
      for r in csv.DictReader(open(f)):
        d.setdefault((r['shape'],r['backend']),{}).setdefault(cb,[]).append(float(r['median_gflops']))
for k,v in d.items():
  a=v.get(a0,[]);b=v.get(b0,[])
  rat=[y/x for x,y in zip(a,b)]
  print(f"{k[0]:22s} {k[1]:7s} {a0} {' '.join('%.1f'%x for x in a):18s} {b0} {' '.join('%.1f'%x for x in b):18s} ratio med {st.median(rat):.2f} [{min(rat):.2f}-{max(rat):.2f}]")
